package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.wmscope.loader.internal.Libbpf;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An attached BPF iterator (e.g. iter/tcp). Each {@link #run()} creates a fresh iterator fd,
 * reads the program's whole output (one pass over the kernel objects) and closes it. The link
 * is owned by the {@link BpfObject}; this type holds no other native resource between runs.
 * Runs must not overlap (one reader thread).
 */
public final class BpfIterator {
  private static final long CHUNK = 64 * 1024;
  private static final int EINTR = 4;
  private static final int EAGAIN = 11;

  private final String name;
  private final BpfLink link;
  private final int linkFd;

  BpfIterator(String name, BpfLink link, int linkFd) {
    this.name = name;
    this.link = link;
    this.linkFd = linkFd;
  }

  /** One pass: everything the program wrote with bpf_seq_write, in order. */
  public byte[] run() {
    if (!link.isOpen()) {
      throw new IllegalStateException("iterator " + name + " is detached");
    }
    try (Arena arena = Arena.ofConfined()) {
      int fd = Native.checkInt("create iterator " + name, (int) Libbpf.ITER_CREATE.invokeExact(linkFd));
      try {
        MemorySegment buf = arena.allocate(CHUNK);
        MemorySegment state = Native.captureState(arena);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
          long n = (long) Libbpf.READ_E.invokeExact(state, fd, buf, CHUNK);
          if (n == 0) {
            return out.toByteArray();
          }
          if (n < 0) {
            int errno = Libbpf.errno(state);
            if (errno == EINTR || errno == EAGAIN) {
              continue; // the kernel restarts the object it was on
            }
            throw BpfException.fromErrno("read iterator " + name, errno, Libbpf.strerror(errno), java.util.List.of());
          }
          out.write(buf.asSlice(0, n).toArray(JAVA_BYTE));
        }
      } finally {
        int unused = (int) Libbpf.CLOSE.invokeExact(fd);
      }
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
