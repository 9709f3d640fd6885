package dev.wmscope.agent.probe;

import java.util.Arrays;

/**
 * A small log-linear histogram of microsecond values (RTTs) for percentiles: values below 8 get
 * a bucket each, above that every power of two is split into 8 linear buckets, so a percentile
 * is within 6.25 % of the true value from 1 µs to hours. 256 counters, no allocation per value.
 *
 * <p>Not thread-safe: owned by the poll thread; copies are handed to readers.
 */
public final class RttHistogram {
  static final int SUB = 8;
  static final int BUCKETS = 256;

  private final long[] counts = new long[BUCKETS];
  private long total;

  public void add(long micros) {
    if (micros <= 0) {
      return;
    }
    counts[bucket(micros)]++;
    total++;
  }

  public void addAll(RttHistogram other) {
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
  }

  public void clear() {
    Arrays.fill(counts, 0);
    total = 0;
  }

  public long count() {
    return total;
  }

  static int bucket(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int e = 63 - Long.numberOfLeadingZeros(v); // floor(log2 v) >= 3
    int sub = (int) (v >>> (e - 3)) - SUB; // 0..7
    int b = SUB + (e - 3) * SUB + sub;
    return Math.min(b, BUCKETS - 1);
  }

  /** The middle of a bucket's range. */
  static long value(int bucket) {
    if (bucket < SUB) {
      return bucket;
    }
    int e = (bucket - SUB) / SUB + 3;
    int sub = (bucket - SUB) % SUB;
    long low = (long) (SUB + sub) << (e - 3);
    long width = 1L << (e - 3);
    return low + width / 2;
  }

  /** The q-quantile (0..1) in microseconds, 0 without samples. */
  public long percentile(double q) {
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return value(i);
      }
    }
    return value(BUCKETS - 1);
  }
}
