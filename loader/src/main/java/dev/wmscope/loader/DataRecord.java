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

/**
 * One read or send of a captured connection (request capture), from {@code struct
 * wm_data_event} (bpf/include/wmscope_conn.h): how many bytes the call moved, where they sit in
 * the direction's byte stream, and the first of them.
 *
 * @param cookie       the connection ({@link ConnRecord#cookie()})
 * @param monoNanos    when the call returned (CLOCK_MONOTONIC)
 * @param streamOffset bytes of this direction moved before this call since the connection was
 *                     tracked: a record that does not start where the previous one ended follows
 *                     a lost record
 * @param length       bytes the call moved
 * @param pid          the calling process
 * @param send         true for a send by the owner, false for a read
 * @param noBuffer     the call had no user buffer to read (sendfile, io_uring): no bytes
 * @param readFailed   the user buffer could not be read: no bytes
 * @param adopted      the connection was open before it was tracked: offset 0 is where tracking
 *                     began, not the start of the stream
 * @param bytes        the first {@code min(length, budget)} bytes (never more)
 */
public record DataRecord(long cookie, long monoNanos, long streamOffset, int length, long pid, boolean send,
    boolean noBuffer, boolean readFailed, boolean adopted, byte[] bytes) {

  /** Bits of wm_data_event.flags. */
  static final int NO_BUFFER = 1;
  static final int READ_FAILED = 2;
  static final int ADOPTED = 4;

  public static final StructLayout LAYOUT = MemoryLayout.structLayout(
      JAVA_LONG.withName("cookie"),
      JAVA_LONG.withName("ts_ns"),
      JAVA_LONG.withName("stream_off"),
      JAVA_INT.withName("len"),
      JAVA_INT.withName("captured"),
      JAVA_INT.withName("pid"),
      JAVA_BYTE.withName("direction"),
      JAVA_BYTE.withName("flags"),
      JAVA_SHORT.withName("_pad0"));

  private static long off(String name) {
    return LAYOUT.byteOffset(groupElement(name));
  }

  private static final long COOKIE = off("cookie");
  private static final long TS = off("ts_ns");
  private static final long STREAM_OFF = off("stream_off");
  private static final long LEN = off("len");
  private static final long CAPTURED = off("captured");
  private static final long PID = off("pid");
  private static final long DIRECTION = off("direction");
  private static final long FLAGS = off("flags");
  /** The largest capture the kernel side can carry (WM_CAPTURE_MAX). */
  public static final int CAPTURE_MAX = 16384;
  private static final byte[] NO_BYTES = new byte[0];

  /**
   * Decodes one record of the data ring buffer.
   *
   * @throws IllegalArgumentException when the record is shorter than its header or its captured
   *     length says
   */
  public static DataRecord decode(MemorySegment s) {
    if (s.byteSize() < LAYOUT.byteSize()) {
      throw new IllegalArgumentException("data record of " + s.byteSize() + " bytes, expected at least "
          + LAYOUT.byteSize());
    }
    int captured = s.get(JAVA_INT_UNALIGNED, CAPTURED);
    int length = s.get(JAVA_INT_UNALIGNED, LEN);
    if (captured < 0 || captured > CAPTURE_MAX || captured > length
        || s.byteSize() < LAYOUT.byteSize() + captured) {
      throw new IllegalArgumentException("data record claims " + captured + " captured bytes of " + length
          + " in " + s.byteSize() + " bytes");
    }
    int flags = s.get(JAVA_BYTE, FLAGS) & 0xff;
    // a bulk copy: MemorySegment.toArray looked up a class name on every call (3% of the agent's
    // CPU under keep-alive load, JDK 25)
    byte[] bytes = captured == 0 ? NO_BYTES : new byte[captured];
    MemorySegment.copy(s, JAVA_BYTE, LAYOUT.byteSize(), bytes, 0, captured);
    return new DataRecord(s.get(JAVA_LONG_UNALIGNED, COOKIE), s.get(JAVA_LONG_UNALIGNED, TS),
        s.get(JAVA_LONG_UNALIGNED, STREAM_OFF), length, Integer.toUnsignedLong(s.get(JAVA_INT_UNALIGNED, PID)),
        s.get(JAVA_BYTE, DIRECTION) == 1, (flags & NO_BUFFER) != 0, (flags & READ_FAILED) != 0,
        (flags & ADOPTED) != 0, bytes);
  }

  /** Where the next record of this direction starts if none is lost. */
  public long endOffset() {
    return streamOffset + Integer.toUnsignedLong(length);
  }
}
