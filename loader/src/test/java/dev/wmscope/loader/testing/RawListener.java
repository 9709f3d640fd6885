package dev.wmscope.loader.testing;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * An IPv4 loopback listener driven through libc, for what Java's sockets cannot do: a plain
 * AF_INET socket (Java's are dual-stack AF_INET6) and an accept without asking the peer's
 * address ({@code accept4(fd, NULL, NULL, 0)}, as C servers often do), so a test can see which
 * hook attributes such a connection. Blocking, test use only; every
 * descriptor is closed by {@link #close()} or {@link Conn#close()}.
 */
public final class RawListener implements AutoCloseable {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle BIND = libc("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle LISTEN = libc("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle GETSOCKNAME =
      libc("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle ACCEPT4 =
      libc("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
  private static final MethodHandle READ = libc("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle WRITE = libc("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final int AF_INET = 2;
  private static final int SOCK_STREAM = 1;
  private static final int SOCKADDR_IN_BYTES = 16;

  private final int fd;
  private final int port;

  public RawListener() throws IOException {
    fd = call("socket", () -> (int) SOCKET.invokeExact(AF_INET, SOCK_STREAM, 0));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment sa = arena.allocate(SOCKADDR_IN_BYTES);
      sa.set(JAVA_SHORT, 0, (short) AF_INET);
      // sin_port 0 (any), sin_addr 127.0.0.1 in network order
      sa.set(JAVA_BYTE, 4, (byte) 127);
      sa.set(JAVA_BYTE, 7, (byte) 1);
      call("bind", () -> (int) BIND.invokeExact(fd, sa, SOCKADDR_IN_BYTES));
      call("listen", () -> (int) LISTEN.invokeExact(fd, 16));
      MemorySegment len = arena.allocate(JAVA_INT);
      len.set(JAVA_INT, 0, SOCKADDR_IN_BYTES);
      call("getsockname", () -> (int) GETSOCKNAME.invokeExact(fd, sa, len));
      port = ((sa.get(JAVA_BYTE, 2) & 0xff) << 8) | (sa.get(JAVA_BYTE, 3) & 0xff);
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  public int port() {
    return port;
  }

  /** Accepts one connection without asking for the peer's address. */
  public Conn acceptWithoutAddress() throws IOException {
    return new Conn(call("accept4", () -> (int) ACCEPT4.invokeExact(fd, MemorySegment.NULL, MemorySegment.NULL, 0)));
  }

  /** Accepts one connection asking for the peer's address, as PHP's stream_socket_accept does. */
  public Conn acceptWithAddress() throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment peer = arena.allocate(SOCKADDR_IN_BYTES);
      MemorySegment len = arena.allocate(JAVA_INT);
      len.set(JAVA_INT, 0, SOCKADDR_IN_BYTES);
      return new Conn(call("accept4", () -> (int) ACCEPT4.invokeExact(fd, peer, len, 0)));
    }
  }

  @Override
  public void close() {
    closeFd(fd);
  }

  /** An accepted connection: read, write and close. */
  public static final class Conn implements AutoCloseable {
    private final int fd;
    private boolean closed;

    private Conn(int fd) {
      this.fd = fd;
    }

    public void write(byte[] bytes) throws IOException {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment buf = arena.allocateFrom(JAVA_BYTE, bytes);
        long n = call("write", () -> (int) (long) WRITE.invokeExact(fd, buf, (long) bytes.length));
        if (n != bytes.length) {
          throw new IOException("write: short write of " + n + " of " + bytes.length + " bytes");
        }
      }
    }

    /** The socket's inode, from /proc/self/fd (what the kernel reports to find its owner). */
    public long inode() throws IOException {
      String link = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd)).toString();
      if (!link.startsWith("socket:[")) {
        throw new IOException("fd " + fd + " is not a socket: " + link);
      }
      return Long.parseLong(link.substring(8, link.length() - 1));
    }

    /** Reads exactly {@code n} bytes (blocking); fewer only when the peer closed. */
    public byte[] read(int n) throws IOException {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment buf = arena.allocate(Math.max(1, n));
        int got = 0;
        while (got < n) {
          int off = got;
          int r = call("read", () -> (int) (long) READ.invokeExact(fd, buf.asSlice(off), (long) (n - off)));
          if (r == 0) {
            break;
          }
          got += r;
        }
        return buf.asSlice(0, got).toArray(JAVA_BYTE);
      }
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        closeFd(fd);
      }
    }
  }

  private static void closeFd(int fd) {
    try {
      int ignored = (int) CLOSE.invokeExact(fd);
    } catch (Throwable t) {
      throw new IllegalStateException("close: " + t, t);
    }
  }

  private interface NativeCall {
    int run() throws Throwable;
  }

  private static int call(String what, NativeCall c) throws IOException {
    int r;
    try {
      r = c.run();
    } catch (Throwable t) {
      throw new IllegalStateException(what + ": " + t, t);
    }
    if (r < 0) {
      throw new IOException(what + " failed");
    }
    return r;
  }

  private static MethodHandle libc(String name, FunctionDescriptor d) {
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
  }
}
