package dev.wmscope.loader;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * A signal, exit or OOM choice of a watched process ({@code struct wm_health_event},
 * bpf/include/wmscope_health.h).
 *
 * @param monoNanos   when (CLOCK_MONOTONIC)
 * @param type        what happened
 * @param pid         the watched process (FORK: the child of the watched master)
 * @param signal      SIGNAL: the signal; EXIT: the last signal it was sent (0: none)
 * @param sender      the signal's sender (tgid; 0: the kernel); FORK: the master
 * @param code        SIGNAL: si_code; EXIT: the exit status as wait(2) reports it
 * @param result      SIGNAL: the kernel's result (0 delivered, 1 ignored, 2 already pending ...)
 * @param senderComm  the sender's comm
 * @param signalNanos EXIT: when that last signal was sent
 * @param oomChosen   EXIT: the OOM killer chose it
 */
public record HealthEvent(long monoNanos, Type type, long pid, int signal, long sender, int code, int result,
    String senderComm, long signalNanos, boolean oomChosen) {

  /** enum wm_health_event_type. */
  public enum Type { SIGNAL, EXIT, OOM, FORK }

  public static final StructLayout LAYOUT = MemoryLayout.structLayout(
      JAVA_LONG.withName("ts_ns"),
      JAVA_INT.withName("type"),
      JAVA_INT.withName("pid"),
      JAVA_INT.withName("signal"),
      JAVA_INT.withName("sender"),
      JAVA_INT.withName("code"),
      JAVA_INT.withName("result"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("comm"),
      JAVA_LONG.withName("signal_ns"),
      JAVA_INT.withName("oom"),
      JAVA_INT.withName("_pad0"));

  private static long off(String name) {
    return LAYOUT.byteOffset(groupElement(name));
  }

  /** Exit status: killed by a signal (wait(2)'s WIFSIGNALED). */
  public boolean killedBySignal() {
    return (code & 0x7f) != 0 && (code & 0x7f) != 0x7f;
  }

  /** Exit status: the terminating signal (WTERMSIG). */
  public int terminatingSignal() {
    return code & 0x7f;
  }

  /** Exit status: the exit code (WEXITSTATUS). */
  public int exitCode() {
    return (code >> 8) & 0xff;
  }

  /** Exit status: a core was dumped. */
  public boolean coreDumped() {
    return (code & 0x80) != 0;
  }

  /**
   * Decodes one record of the health ring buffer.
   *
   * @throws IllegalArgumentException when it is shorter than the layout or of an unknown type
   */
  static HealthEvent decode(MemorySegment s) {
    if (s.byteSize() < LAYOUT.byteSize()) {
      throw new IllegalArgumentException("health record of " + s.byteSize() + " bytes, expected " + LAYOUT.byteSize());
    }
    int t = s.get(JAVA_INT, off("type"));
    if (t < 1 || t > Type.values().length) {
      throw new IllegalArgumentException("health record of unknown type " + t);
    }
    return new HealthEvent(s.get(JAVA_LONG, off("ts_ns")), Type.values()[t - 1],
        Integer.toUnsignedLong(s.get(JAVA_INT, off("pid"))), s.get(JAVA_INT, off("signal")),
        Integer.toUnsignedLong(s.get(JAVA_INT, off("sender"))), s.get(JAVA_INT, off("code")),
        s.get(JAVA_INT, off("result")), LoopState.cString(s, off("comm"), 16), s.get(JAVA_LONG, off("signal_ns")),
        s.get(JAVA_INT, off("oom")) != 0);
  }
}
