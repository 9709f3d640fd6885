package dev.wmscope.agent.requests;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Byte searches over captured heads, eight bytes at a time. C2 does not vectorize a search loop
 * that exits early, and the framing looks for line ends in every request and response head:
 * a byte-at-a-time scan was the largest part of the agent's CPU per request under keep-alive
 * load (bench/README.md, "Request telemetry").
 */
final class Bytes {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  private Bytes() {}

  /** The first index of {@code c} in {@code b[from, to)}, or -1. */
  static int indexOf(byte[] b, byte c, int from, int to) {
    int i = from;
    long pattern = (c & 0xffL) * ONES;
    for (; i + 8 <= to; i += 8) {
      long x = (long) LONGS.get(b, i) ^ pattern;
      // the lowest byte of x that is zero sets its high bit here (higher ones may be false
      // positives after a borrow, never lower ones); little-endian: lowest byte = first index
      long zeros = (x - ONES) & ~x & HIGHS;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return -1;
  }

  /** The index of the CR of the first CRLF in {@code b[from, to)}, or -1. */
  static int indexOfCrlf(byte[] b, int from, int to) {
    int i = from + 1;
    while (i < to) {
      int lf = indexOf(b, (byte) '\n', i, to);
      if (lf < 0) {
        return -1;
      }
      if (b[lf - 1] == '\r') {
        return lf - 1;
      }
      i = lf + 1;
    }
    return -1;
  }
}
