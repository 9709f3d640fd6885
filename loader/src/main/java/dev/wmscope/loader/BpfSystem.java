package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Read-only view of what is loaded in the kernel: program and link ids, program names. Used by
 * leak checks in tests and by {@code wmscope check}. Needs the same privileges as loading.
 */
public final class BpfSystem {
  private BpfSystem() {}

  /** A loaded program. */
  public record LoadedProgram(int id, String name) {}

  static final long PROG_INFO_SIZE = 256;
  // struct bpf_prog_info (stable uapi): type u32 @0, id u32 @4, ..., name char[16] @64, ...,
  // run_time_ns u64 @192, run_cnt u64 @200, recursion_misses u64 @208 (Linux >= 5.12)
  private static final long PROG_INFO_NAME = 64;
  static final long PROG_INFO_RECURSION_MISSES = 208;

  /** All loaded programs with their names (programs that vanish meanwhile are skipped). */
  public static List<LoadedProgram> programs() {
    List<LoadedProgram> out = new ArrayList<>();
    for (int id : ids(Libbpf.PROG_GET_NEXT_ID)) {
      String name = programName(id);
      if (name != null) {
        out.add(new LoadedProgram(id, name));
      }
    }
    return out;
  }

  /** Ids of all BPF links in the kernel. */
  public static List<Integer> linkIds() {
    return ids(Libbpf.LINK_GET_NEXT_ID);
  }

  /** Programs whose name starts with "wmscope" (ours). */
  public static List<LoadedProgram> wmscopePrograms() {
    return programs().stream().filter(p -> p.name().startsWith("wmscope")).toList();
  }

  private static List<Integer> ids(java.lang.invoke.MethodHandle nextId) {
    List<Integer> out = new ArrayList<>();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment next = arena.allocate(JAVA_INT);
      int id = 0;
      while (true) {
        int ret = (int) nextId.invokeExact(id, next);
        if (ret != 0) {
          if (-ret == 2 || ret == -1) {
            return out; // ENOENT: no more ids
          }
          Native.checkInt("list BPF objects", ret);
        }
        id = next.get(JAVA_INT, 0);
        out.add(id);
      }
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  private static String programName(int id) {
    try (Arena arena = Arena.ofConfined()) {
      int fd = (int) Libbpf.PROG_GET_FD_BY_ID.invokeExact(id);
      if (fd < 0) {
        return null;
      }
      try {
        MemorySegment info = Native.objectInfo(arena, fd, PROG_INFO_SIZE);
        if (info == null || info.byteSize() < PROG_INFO_NAME + 16) {
          return null;
        }
        byte[] name = info.asSlice(PROG_INFO_NAME, 16).toArray(JAVA_BYTE);
        int n = 0;
        while (n < name.length && name[n] != 0) {
          n++;
        }
        return new String(name, 0, n, java.nio.charset.StandardCharsets.UTF_8);
      } finally {
        int unused = (int) Libbpf.CLOSE.invokeExact(fd);
      }
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Effective uid of this process (0 for root). */
  public static int effectiveUid() {
    try {
      return (int) Libbpf.GETEUID.invokeExact();
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Whether this process may load tracing programs: effective uid 0, or CAP_BPF with CAP_PERFMON
   * or CAP_SYS_ADMIN in its effective set (/proc/self/status). False when it cannot be read.
   */
  public static boolean privileged() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
          boolean bpf = (caps & (1L << 39)) != 0 && (caps & (1L << 38)) != 0;
          return bpf || (caps & (1L << 21)) != 0;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // unreadable: say no
    }
    return false;
  }
}
