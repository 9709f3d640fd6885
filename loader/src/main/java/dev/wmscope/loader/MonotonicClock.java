package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Converts kernel timestamps (bpf_ktime_get_ns: CLOCK_MONOTONIC) to wall-clock epoch
 * nanoseconds. The offset is sampled once; a later wall-clock step (NTP) shifts converted
 * times by that step, which is what every backend expects anyway.
 */
public final class MonotonicClock {
  private static final int CLOCK_REALTIME = 0;
  private final long offsetNanos;

  public MonotonicClock() {
    // realtime - monotonic, sampled between two monotonic reads to bound the error
    long m1 = now(Libbpf.CLOCK_MONOTONIC);
    long real = now(CLOCK_REALTIME);
    long m2 = now(Libbpf.CLOCK_MONOTONIC);
    this.offsetNanos = real - (m1 + (m2 - m1) / 2);
  }

  /** Current CLOCK_MONOTONIC reading in nanoseconds, comparable with kernel timestamps. */
  public static long monotonicNow() {
    return now(Libbpf.CLOCK_MONOTONIC);
  }

  public long toEpochNanos(long monotonicNanos) {
    return monotonicNanos + offsetNanos;
  }

  private static long now(int clock) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment ts = arena.allocate(16, 8); // struct timespec { long tv_sec; long tv_nsec; }
      int unused = (int) Libbpf.CLOCK_GETTIME.invokeExact(clock, ts);
      return ts.get(JAVA_LONG, 0) * 1_000_000_000L + ts.get(JAVA_LONG, 8);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
