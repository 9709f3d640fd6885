package dev.wmscope.agent.selection;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;

/**
 * The TCP listening sockets of the agent's own network namespace from the kernel's sock_diag
 * netlink interface (what {@code ss -lt} uses), asking for LISTEN sockets only: the kernel then
 * walks just its listening hash. /proc/net/tcp walks the whole established hash (262,144
 * buckets on a 24 GiB host, 3.4 ms per read even when idle) and prints every connection of the
 * host, so its cost grows with the host's memory and its connections.
 */
final class SockDiag {
  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;
  private static final int AF_NETLINK = 16;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int NETLINK_SOCK_DIAG = 4;
  private static final int IPPROTO_TCP = 6;
  private static final int TCP_LISTEN = 10;
  private static final short SOCK_DIAG_BY_FAMILY = 20;
  private static final short NLMSG_ERROR = 2;
  private static final short NLMSG_DONE = 3;
  private static final short NLM_F_REQUEST = 1;
  private static final short NLM_F_DUMP = 0x300;
  /** struct nlmsghdr, then struct inet_diag_req_v2 (4 bytes, the states, a 48-byte inet_diag_sockid). */
  private static final int NLMSG_HDR = 16;
  private static final int REQUEST_LEN = NLMSG_HDR + 56;
  /** In struct inet_diag_msg: the source port (big-endian) and the inode. */
  private static final int MSG_SPORT = 4;
  private static final int MSG_INODE = 68;
  private static final int MSG_MIN = 72;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle SEND =
      libc("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle RECV =
      libc("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

  private SockDiag() {}

  private static MethodHandle libc(String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
  }

  /**
   * inode -> local port of every TCP socket in LISTEN state (IPv4 and IPv6) in this process's
   * network namespace.
   *
   * @throws IOException when netlink is not available or the kernel answers with an error
   */
  static Map<Long, Integer> listeners() throws IOException {
    Map<Long, Integer> out = new HashMap<>();
    try (Arena arena = Arena.ofConfined()) {
      int fd = (int) SOCKET.invokeExact(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
      if (fd < 0) {
        throw new IOException("netlink sock_diag socket refused");
      }
      try {
        MemorySegment buf = arena.allocate(64 * 1024, 8);
        dump(fd, AF_INET, buf, out);
        try {
          dump(fd, AF_INET6, buf, out);
        } catch (IOException e) {
          // a kernel without IPv6 answers the family with an error: it has no IPv6 listeners
        }
      } finally {
        int ignored = (int) CLOSE.invokeExact(fd);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("netlink sock_diag: " + t, t);
    }
    return out;
  }

  private static void dump(int fd, int family, MemorySegment buf, Map<Long, Integer> out) throws Throwable {
    MemorySegment req = buf.asSlice(0, REQUEST_LEN).fill((byte) 0);
    req.set(JAVA_INT, 0, REQUEST_LEN);
    req.set(JAVA_SHORT_UNALIGNED, 4, SOCK_DIAG_BY_FAMILY);
    req.set(JAVA_SHORT_UNALIGNED, 6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
    req.set(JAVA_INT, 8, family); // the sequence number: the family, to tell the answers apart
    req.set(JAVA_BYTE, NLMSG_HDR, (byte) family);
    req.set(JAVA_BYTE, NLMSG_HDR + 1, (byte) IPPROTO_TCP);
    req.set(JAVA_INT, NLMSG_HDR + 4, 1 << TCP_LISTEN);
    if ((long) SEND.invokeExact(fd, req, (long) REQUEST_LEN, 0) != REQUEST_LEN) {
      throw new IOException("netlink sock_diag request not sent");
    }
    while (true) {
      long n = (long) RECV.invokeExact(fd, buf, buf.byteSize(), 0);
      if (n <= 0) {
        throw new IOException("netlink sock_diag: no answer");
      }
      int off = 0;
      while (off + NLMSG_HDR <= n) {
        int len = buf.get(JAVA_INT_UNALIGNED, off);
        short type = buf.get(JAVA_SHORT_UNALIGNED, off + 4);
        if (len < NLMSG_HDR || off + len > n) {
          throw new IOException("netlink sock_diag: malformed answer");
        }
        if (type == NLMSG_DONE) {
          return;
        }
        if (type == NLMSG_ERROR) {
          throw new IOException("netlink sock_diag: error " + -buf.get(JAVA_INT_UNALIGNED, off + NLMSG_HDR));
        }
        if (type == SOCK_DIAG_BY_FAMILY && len >= NLMSG_HDR + MSG_MIN) {
          int p = off + NLMSG_HDR;
          int port = Short.toUnsignedInt(Short.reverseBytes(buf.get(JAVA_SHORT_UNALIGNED, p + MSG_SPORT)));
          long inode = Integer.toUnsignedLong(buf.get(JAVA_INT_UNALIGNED, p + MSG_INODE));
          if (inode != 0) {
            out.put(inode, port);
          }
        }
        off += (len + 3) & ~3; // NLMSG_ALIGN
      }
    }
  }
}
