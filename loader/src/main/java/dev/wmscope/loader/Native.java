package dev.wmscope.loader;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** The one place where native return values become Java exceptions. */
final class Native {
  private Native() {}

  /** libbpf int functions return -errno on failure. */
  static int checkInt(String operation, int ret) {
    if (ret < 0) {
      throw BpfException.fromErrno(operation, -ret, Libbpf.strerror(-ret), LibbpfLog.drain());
    }
    return ret;
  }

  /** Pointer functions return NULL and set errno (captured in the state segment). */
  static MemorySegment checkPtr(String operation, MemorySegment ret, MemorySegment captureState) {
    if (ret.equals(MemorySegment.NULL)) {
      int errno = Libbpf.errno(captureState);
      throw BpfException.fromErrno(operation, errno, Libbpf.strerror(errno), LibbpfLog.drain());
    }
    return ret;
  }

  static MemorySegment captureState(Arena arena) {
    return arena.allocate(Libbpf.CAPTURE_LAYOUT);
  }

  static BpfException failure(String operation, String cause, String hint) {
    return new BpfException(operation, 0, cause, hint, List.of(), null);
  }
}
