package dev.wmscope.loader;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Java mirror of {@code struct wm_conn_event} (bpf/include/wmscope_conn.h). ConnEventLayoutTest
 * holds every member offset and the size to the BTF of the compiled object.
 */
public final class ConnEventLayout {
  private ConnEventLayout() {}

  static final int AF_INET = 2;

  public static final StructLayout LAYOUT = MemoryLayout.structLayout(
      JAVA_INT.withName("type"),
      JAVA_SHORT.withName("family"),
      JAVA_BYTE.withName("side"),
      JAVA_BYTE.withName("flags"),
      JAVA_LONG.withName("cookie"),
      JAVA_LONG.withName("start_ns"),
      JAVA_LONG.withName("end_ns"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("local_addr"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("remote_addr"),
      JAVA_SHORT.withName("local_port"),
      JAVA_SHORT.withName("remote_port"),
      JAVA_INT.withName("pid"),
      JAVA_LONG.withName("bytes_received"),
      JAVA_LONG.withName("bytes_acked"),
      JAVA_INT.withName("data_segs_in"),
      JAVA_INT.withName("data_segs_out"),
      JAVA_INT.withName("srtt_us"),
      JAVA_INT.withName("total_retrans"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("comm"),
      JAVA_INT.withName("prev_state"),
      JAVA_INT.withName("sk_err"),
      JAVA_LONG.withName("sock_inode"));

  private static long off(String name) {
    return LAYOUT.byteOffset(groupElement(name));
  }

  private static final long TYPE = off("type");
  private static final long FAMILY = off("family");
  private static final long SIDE = off("side");
  private static final long FLAGS = off("flags");
  private static final long COOKIE = off("cookie");
  private static final long START = off("start_ns");
  private static final long END = off("end_ns");
  private static final long LOCAL_ADDR = off("local_addr");
  private static final long REMOTE_ADDR = off("remote_addr");
  private static final long LOCAL_PORT = off("local_port");
  private static final long REMOTE_PORT = off("remote_port");
  private static final long PID = off("pid");
  private static final long BYTES_RECEIVED = off("bytes_received");
  private static final long BYTES_ACKED = off("bytes_acked");
  private static final long SEGS_IN = off("data_segs_in");
  private static final long SEGS_OUT = off("data_segs_out");
  private static final long SRTT = off("srtt_us");
  private static final long RETRANS = off("total_retrans");
  private static final long COMM = off("comm");
  private static final long PREV_STATE = off("prev_state");
  private static final long SK_ERR = off("sk_err");
  private static final long SOCK_INODE = off("sock_inode");

  /** Decodes one record; the segment must hold at least {@code LAYOUT.byteSize()} bytes. */
  public static ConnRecord decode(MemorySegment s) {
    if (s.byteSize() < LAYOUT.byteSize()) {
      throw new IllegalArgumentException("record of " + s.byteSize() + " bytes, expected " + LAYOUT.byteSize());
    }
    int family = Short.toUnsignedInt(s.get(JAVA_SHORT, FAMILY));
    return new ConnRecord(
        ConnEventType.of(s.get(JAVA_INT, TYPE)),
        ConnSide.of(s.get(JAVA_BYTE, SIDE)),
        Byte.toUnsignedInt(s.get(JAVA_BYTE, FLAGS)),
        s.get(JAVA_LONG, COOKIE),
        s.get(JAVA_LONG, START),
        s.get(JAVA_LONG, END),
        address(s, LOCAL_ADDR, family),
        Short.toUnsignedInt(s.get(JAVA_SHORT, LOCAL_PORT)),
        address(s, REMOTE_ADDR, family),
        Short.toUnsignedInt(s.get(JAVA_SHORT, REMOTE_PORT)),
        Integer.toUnsignedLong(s.get(JAVA_INT, PID)),
        cString(s, COMM, 16),
        s.get(JAVA_LONG, BYTES_RECEIVED),
        s.get(JAVA_LONG, BYTES_ACKED),
        Integer.toUnsignedLong(s.get(JAVA_INT, SEGS_IN)),
        Integer.toUnsignedLong(s.get(JAVA_INT, SEGS_OUT)),
        Integer.toUnsignedLong(s.get(JAVA_INT, SRTT)),
        Integer.toUnsignedLong(s.get(JAVA_INT, RETRANS)),
        s.get(JAVA_INT, PREV_STATE),
        s.get(JAVA_INT, SK_ERR),
        s.get(JAVA_LONG, SOCK_INODE));
  }

  /*
   * A host's records repeat a few addresses and thread names over and over: small direct-mapped
   * caches return the same immutable InetAddress and String instead of building new ones per
   * record (decode was most of the poll thread's allocation under churn). Entries are immutable
   * records, so sharing the arrays between threads is safe; a lost race only costs a rebuild.
   */
  private static final int CACHE_SLOTS = 1024; // a power of two
  private record V4(int bits, InetAddress address) {}
  /** A value cached under 16 raw bytes (an IPv6 address, a thread name). */
  private record Bytes16<T>(long hi, long lo, T value) {}
  private static final V4[] V4_CACHE = new V4[CACHE_SLOTS];
  @SuppressWarnings("unchecked")
  private static final Bytes16<InetAddress>[] V6_CACHE = new Bytes16[CACHE_SLOTS];
  @SuppressWarnings("unchecked")
  private static final Bytes16<String>[] COMM_CACHE = new Bytes16[CACHE_SLOTS];

  private static int slot(long hash) {
    long h = hash * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 54) & (CACHE_SLOTS - 1);
  }

  private static <T> T find(Bytes16<T>[] cache, long hi, long lo) {
    Bytes16<T> hit = cache[slot(hi ^ Long.rotateLeft(lo, 17))];
    return hit != null && hit.hi() == hi && hit.lo() == lo ? hit.value() : null;
  }

  private static <T> T keep(Bytes16<T>[] cache, long hi, long lo, T value) {
    cache[slot(hi ^ Long.rotateLeft(lo, 17))] = new Bytes16<>(hi, lo, value);
    return value;
  }

  static InetAddress address(MemorySegment s, long offset, int family) {
    if (family == AF_INET) {
      int bits = s.get(JAVA_INT_UNALIGNED, offset);
      int i = slot(bits);
      V4 hit = V4_CACHE[i];
      if (hit != null && hit.bits() == bits) {
        return hit.address();
      }
      InetAddress a = newAddress(s, offset, 4);
      V4_CACHE[i] = new V4(bits, a);
      return a;
    }
    long hi = s.get(JAVA_LONG_UNALIGNED, offset);
    long lo = s.get(JAVA_LONG_UNALIGNED, offset + 8);
    InetAddress hit = find(V6_CACHE, hi, lo);
    return hit != null ? hit : keep(V6_CACHE, hi, lo, newAddress(s, offset, 16));
  }

  private static InetAddress newAddress(MemorySegment s, long offset, int length) {
    byte[] raw = s.asSlice(offset, length).toArray(JAVA_BYTE);
    try {
      // getByAddress never does DNS; a v4-mapped IPv6 address comes back as Inet4Address
      return InetAddress.getByAddress(raw);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bad address length " + raw.length, e);
    }
  }

  /** A NUL-terminated thread name of at most 16 bytes (TASK_COMM_LEN). */
  private static String cString(MemorySegment s, long offset, int max) {
    long hi = s.get(JAVA_LONG_UNALIGNED, offset);
    long lo = s.get(JAVA_LONG_UNALIGNED, offset + 8);
    String hit = find(COMM_CACHE, hi, lo);
    if (hit != null) {
      return hit;
    }
    int len = 0;
    while (len < max && s.get(JAVA_BYTE, offset + len) != 0) {
      len++;
    }
    return keep(COMM_CACHE, hi, lo, new String(s.asSlice(offset, len).toArray(JAVA_BYTE), StandardCharsets.UTF_8));
  }
}
