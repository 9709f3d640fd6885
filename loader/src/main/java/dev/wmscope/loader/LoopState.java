package dev.wmscope.loader;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;

/**
 * A watched worker's event loop as the kernel last saw it ({@code struct wm_loop},
 * bpf/include/wmscope_health.h). Totals only grow; times are CLOCK_MONOTONIC nanoseconds.
 *
 * @param waitNanos       time asleep in the event wait, finished waits
 * @param busyNanos       total length of finished busy stretches
 * @param stretches       finished busy stretches
 * @param buckets         finished stretches by length, bounds {@link #BUCKET_BOUNDS_NANOS} (the
 *                        last bucket: longer than the last bound)
 * @param sinceNanos      waiting since (state WAITING) or busy since (state BUSY)
 * @param sleepSinceNanos asleep in another syscall since (0: not asleep in one)
 * @param sleepArg0       that syscall's first argument (for poll/ppoll the first pollfd's fd)
 * @param onCpuNanos      time on a CPU, finished runs
 * @param switchedInNanos on a CPU since (0: off CPU)
 * @param preemptions     switched out while runnable
 * @param signalNanos     when the last signal was generated for it
 * @param sleepSyscall    the syscall it sleeps in (x86-64 numbers)
 * @param state           what it does now
 * @param signal          last signal generated for it (0: none)
 * @param signalSender    tgid of that signal's sender (0: the kernel)
 * @param signalCode      its si_code
 * @param signalComm      the sender's comm
 * @param oomChosen       the OOM killer chose it
 */
public record LoopState(long waitNanos, long busyNanos, long stretches, long[] buckets, long sinceNanos,
    long sleepSinceNanos, long sleepArg0, long onCpuNanos, long switchedInNanos, long preemptions,
    long signalNanos, int sleepSyscall, State state, int signal, long signalSender, int signalCode,
    String signalComm, boolean oomChosen) {

  /** enum wm_loop_state. */
  public enum State { UNKNOWN, WAITING, BUSY }

  /** Upper bounds of the busy-stretch buckets (WM_LOOP_BOUNDS): 1 ms to 10 s. */
  public static final long[] BUCKET_BOUNDS_NANOS = {
      1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L,
      250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L};
  public static final int BUCKETS = BUCKET_BOUNDS_NANOS.length + 1;

  /** wm_loop.flags set when watching: nanosleep is the wait (a Select loop without descriptors). */
  public static final int FLAG_SLEEP_IS_WAIT = 1;
  /** wm_loop.flags set when watching: only signals and exit (a master). */
  public static final int FLAG_SIGNALS_ONLY = 2;

  public static final StructLayout LAYOUT = MemoryLayout.structLayout(
      JAVA_LONG.withName("wait_ns"),
      JAVA_LONG.withName("busy_ns"),
      JAVA_LONG.withName("stretches"),
      MemoryLayout.sequenceLayout(BUCKETS, JAVA_LONG).withName("buckets"),
      JAVA_LONG.withName("since_ns"),
      JAVA_LONG.withName("sleep_since_ns"),
      JAVA_LONG.withName("sleep_arg0"),
      JAVA_LONG.withName("on_cpu_ns"),
      JAVA_LONG.withName("switched_in_ns"),
      JAVA_LONG.withName("preemptions"),
      JAVA_LONG.withName("signal_ns"),
      JAVA_INT.withName("sleep_nr"),
      JAVA_INT.withName("state"),
      JAVA_INT.withName("flags"),
      JAVA_INT.withName("signal"),
      JAVA_INT.withName("signal_sender"),
      JAVA_INT.withName("signal_code"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("signal_comm"),
      JAVA_INT.withName("oom"),
      JAVA_INT.withName("_pad0"));

  static long off(String name) {
    return LAYOUT.byteOffset(groupElement(name));
  }

  /** Whether it was asleep in a syscall other than its wait when read. */
  public boolean asleepInSyscall() {
    return sleepSinceNanos != 0;
  }

  /** Time asleep in the wait up to {@code nowNanos}, the current wait included. */
  public long waitNanosAt(long nowNanos) {
    return waitNanos + (state == State.WAITING && nowNanos > sinceNanos ? nowNanos - sinceNanos : 0);
  }

  static LoopState decode(MemorySegment s) {
    long[] buckets = new long[BUCKETS];
    long b = off("buckets");
    for (int i = 0; i < BUCKETS; i++) {
      buckets[i] = s.get(JAVA_LONG, b + 8L * i);
    }
    int st = s.get(JAVA_INT, off("state"));
    return new LoopState(s.get(JAVA_LONG, off("wait_ns")), s.get(JAVA_LONG, off("busy_ns")),
        s.get(JAVA_LONG, off("stretches")), buckets, s.get(JAVA_LONG, off("since_ns")),
        s.get(JAVA_LONG, off("sleep_since_ns")), s.get(JAVA_LONG, off("sleep_arg0")),
        s.get(JAVA_LONG, off("on_cpu_ns")), s.get(JAVA_LONG, off("switched_in_ns")),
        s.get(JAVA_LONG, off("preemptions")), s.get(JAVA_LONG, off("signal_ns")),
        s.get(JAVA_INT, off("sleep_nr")), st >= 0 && st < State.values().length ? State.values()[st] : State.UNKNOWN,
        s.get(JAVA_INT, off("signal")), Integer.toUnsignedLong(s.get(JAVA_INT, off("signal_sender"))),
        s.get(JAVA_INT, off("signal_code")), cString(s, off("signal_comm"), 16), s.get(JAVA_INT, off("oom")) != 0);
  }

  static String cString(MemorySegment s, long offset, int max) {
    byte[] raw = s.asSlice(offset, max).toArray(JAVA_BYTE);
    int n = 0;
    while (n < raw.length && raw[n] != 0) {
      n++;
    }
    return new String(raw, 0, n, StandardCharsets.UTF_8);
  }
}
