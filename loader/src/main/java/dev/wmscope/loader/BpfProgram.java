package dev.wmscope.loader;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * A program of a loaded {@link BpfObject}. Owned by the object (no close of its own); the links
 * it creates are registered with the object so closing the object detaches them first.
 */
public final class BpfProgram {
  private final BpfObject owner;
  private final String name;
  private final MemorySegment prog;

  BpfProgram(BpfObject owner, String name, MemorySegment prog) {
    this.owner = owner;
    this.name = name;
    this.prog = prog;
  }

  public String name() {
    return name;
  }

  /** Whether the program is in the kernel (false when its autoload was off at load). */
  public boolean loaded() {
    try {
      return (int) Libbpf.PROGRAM_FD.invokeExact(prog) >= 0;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Runs the kernel skipped because the program was already running on that CPU (a tracing
   * program fired again from an interrupt on top of itself): each is an event it never saw. 0
   * when the program is not loaded or the kernel does not say (before Linux 5.12).
   */
  public long missedRuns() {
    try (Arena arena = Arena.ofConfined()) {
      int fd = (int) Libbpf.PROGRAM_FD.invokeExact(prog);
      if (fd < 0) {
        return 0;
      }
      MemorySegment info = Native.objectInfo(arena, fd, BpfSystem.PROG_INFO_SIZE);
      if (info == null || info.byteSize() < BpfSystem.PROG_INFO_RECURSION_MISSES + 8) {
        return 0;
      }
      return info.get(ValueLayout.JAVA_LONG, BpfSystem.PROG_INFO_RECURSION_MISSES);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Attaches to a cgroup v2 directory with a bpf_link (BPF_LINK_CREATE), which allows other
   * programs, ours or other tools', on the same cgroup (multi-attach).
   */
  public BpfLink attachCgroup(Path cgroupDir) {
    try (CgroupFd fd = CgroupFd.open(cgroupDir)) {
      return link("attach " + name + " to cgroup " + cgroupDir, name + "@" + cgroupDir,
          state -> (MemorySegment) Libbpf.PROGRAM_ATTACH_CGROUP_E.invokeExact(state, prog, fd.fd()));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Attaches by the program's section (tp_btf/..., raw_tp/..., iter/...). */
  public BpfLink attach() {
    return link("attach " + name, name, state -> (MemorySegment) Libbpf.PROGRAM_ATTACH_E.invokeExact(state, prog));
  }

  /** Attaches an iterator program (iter/...); read it with {@link BpfIterator}. */
  public BpfIterator attachIterator() {
    return iterator("attach iterator " + name, name, MemorySegment.NULL);
  }

  /** Attaches a map iterator program (iter/bpf_map_elem, iter/bpf_sk_storage_map) to one map. */
  public BpfIterator attachIterator(BpfMap map) {
    try (Arena arena = Arena.ofConfined()) {
      // struct bpf_iter_attach_opts { size_t sz; union bpf_iter_link_info *link_info; __u32 link_info_len; }
      // with the union's map.map_fd set (the union is 16 bytes); libbpf copies both into the syscall
      MemorySegment linkInfo = arena.allocate(16, 8);
      linkInfo.set(ValueLayout.JAVA_INT, 0, map.fd());
      MemorySegment opts = arena.allocate(24, 8);
      opts.set(ValueLayout.JAVA_LONG, 0, 24);
      opts.set(ValueLayout.ADDRESS, 8, linkInfo);
      opts.set(ValueLayout.JAVA_INT, 16, 16);
      return iterator("attach iterator " + name + " to map " + map.name(), name + "@" + map.name(), opts);
    }
  }

  /** bpf_program__attach_iter with these options (NULL: none). */
  private BpfIterator iterator(String op, String description, MemorySegment opts) {
    BpfLink link = link(op, description,
        state -> (MemorySegment) Libbpf.PROGRAM_ATTACH_ITER_E.invokeExact(state, prog, opts));
    return new BpfIterator(name, link, link.fd());
  }

  /** One libbpf attach call (errno captured into {@code state}); returns the link or NULL. */
  @FunctionalInterface
  private interface AttachCall {
    MemorySegment call(MemorySegment state) throws Throwable;
  }

  /** Runs an attach call with libbpf's log captured and registers the link with the object. */
  private BpfLink link(String op, String description, AttachCall call) {
    try (Arena arena = Arena.ofConfined()) {
      LibbpfLog.capture();
      MemorySegment state = Native.captureState(arena);
      MemorySegment link = Native.checkPtr(op, call.call(state), state);
      return owner.register(new BpfLink(description, link));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      LibbpfLog.drain();
    }
  }

  /** A directory file descriptor of a cgroup, closed with try-with-resources. */
  private record CgroupFd(int fd) implements AutoCloseable {
    static CgroupFd open(Path dir) throws Throwable {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment state = Native.captureState(arena);
        int fd = (int) Libbpf.OPEN_E.invokeExact(state, arena.allocateFrom(dir.toString()),
            Libbpf.O_RDONLY | Libbpf.O_DIRECTORY | Libbpf.O_CLOEXEC);
        if (fd < 0) {
          int errno = Libbpf.errno(state);
          throw BpfException.fromErrno("open cgroup " + dir, errno, Libbpf.strerror(errno), java.util.List.of());
        }
        return new CgroupFd(fd);
      }
    }

    @Override
    public void close() {
      try {
        int unused = (int) Libbpf.CLOSE.invokeExact(fd);
      } catch (Throwable t) {
        throw Libbpf.rethrow(t);
      }
    }
  }
}
