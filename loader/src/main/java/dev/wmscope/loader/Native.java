package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_INT;

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

  /**
   * bpf_obj_get_info_by_fd: the kernel's description of a program, map or link (its struct
   * bpf_*_info), as much of the first {@code size} bytes as this kernel fills in; null when it
   * refuses. A field past the returned size is one this kernel does not have.
   */
  static MemorySegment objectInfo(Arena arena, int fd, long size) {
    MemorySegment info = arena.allocate(size, 8);
    MemorySegment len = arena.allocateFrom(JAVA_INT, (int) size);
    try {
      int rc = (int) Libbpf.OBJ_GET_INFO_BY_FD.invokeExact(fd, info, len);
      return rc != 0 ? null : info.asSlice(0, Math.min(size, len.get(JAVA_INT, 0)));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  static MemorySegment captureState(Arena arena) {
    return arena.allocate(Libbpf.CAPTURE_LAYOUT);
  }

  static BpfException failure(String operation, String cause, String hint) {
    return new BpfException(operation, 0, cause, hint, List.of(), null);
  }
}
