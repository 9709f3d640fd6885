package dev.wmscope.loader;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The worker health programs (bpf/src/wmscope_health.bpf.c): each watched worker's event loop
 * (waiting, busy, blocked in which syscall) and how watched processes end (signals with their
 * senders, exit status, OOM choices). A separate BPF object from {@link ConnectionProbe}: if
 * this kernel refuses any of it, connection tracking is untouched.
 *
 * <p>A process is watched through a pidfd ({@link #watch}): its main thread gets a {@code
 * wm_loop} in task storage, which is all the programs look at. The pidfd is kept until
 * {@link #unwatch} or close, so a reused pid can never be mistaken for the watched process.
 *
 * <p>Threading: {@link #watch}, {@link #unwatch}, {@link #read} and {@link #consume} from one
 * thread at a time (the agent's health tick); {@link #features()} from any.
 */
public final class WorkerHealthProbe implements AutoCloseable {
  static final String OBJECT_RESOURCE = "wmscope_health.bpf.o";
  static final String MAP_LOOP_STATE = "loop_state";
  static final String MAP_EVENTS = "health_events";
  static final String MAP_DROPS = "health_drops";
  private static final int ESRCH = 3;
  private static final int EEXIST = 17;
  private static final long BPF_NOEXIST = 1;

  private final BpfObject object;
  private final BpfMap loops;
  private final BpfMap drops;
  private final RingBufferReader reader;
  private final Consumer<HealthEvent> sink;
  private final Map<KernelFeature, FeatureStatus> features;
  private final Map<Long, Integer> pidfds = new HashMap<>();
  private long decodeErrors;

  private WorkerHealthProbe(BpfObject object, Consumer<HealthEvent> sink, Map<KernelFeature, String> lost) {
    this.object = object;
    this.sink = sink;
    this.loops = object.map(MAP_LOOP_STATE);
    this.drops = object.map(MAP_DROPS);
    Map<KernelFeature, FeatureStatus> f = new EnumMap<>(KernelFeature.class);
    for (KernelFeature k : KernelFeature.HEALTH) {
      f.put(k, lost.containsKey(k) ? FeatureStatus.lost(k, lost.get(k)) : FeatureStatus.ok(k));
    }
    this.reader = new RingBufferReader(object.map(MAP_EVENTS), this::onRecord);
    try {
      for (KernelFeature k : KernelFeature.HEALTH) {
        if (!f.get(k).ok()) {
          continue;
        }
        for (String p : k.programs()) {
          try {
            object.program(p).attach();
          } catch (BpfException e) {
            f.put(k, FeatureStatus.lost(k, "refused by the kernel: " + BpfException.errnoName(e.errno())
                + " attaching " + p));
            break;
          }
        }
      }
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
    this.features = Map.copyOf(f);
  }

  /**
   * Loads and attaches what this kernel allows of the health programs; events go to {@code
   * sink} on the thread calling {@link #consume}.
   *
   * @return empty when every health feature is switched off (nothing is loaded)
   * @throws BpfException when the object cannot load at all (e.g. no task storage)
   */
  public static Optional<WorkerHealthProbe> start(Set<KernelFeature> disabled, Consumer<HealthEvent> sink) {
    Map<KernelFeature, String> off = new EnumMap<>(KernelFeature.class);
    disabled.stream().filter(KernelFeature.HEALTH::contains)
        .forEach(f -> off.put(f, "turned off by " + KernelFeature.DISABLE_ENV));
    if (off.keySet().containsAll(KernelFeature.HEALTH)) {
      return Optional.empty();
    }
    var spec = new FeatureLoader.Spec<>(OBJECT_RESOURCE, ConnectionProbe.resourceBytes(OBJECT_RESOURCE), List.of(),
        List.copyOf(KernelFeature.HEALTH), o -> {});
    FeatureLoader.Loaded<KernelFeature> loaded = FeatureLoader.load(spec, off, BpfObject::kernelHasTracepoint);
    try {
      return Optional.of(new WorkerHealthProbe(loaded.object(), sink, loaded.lost()));
    } catch (RuntimeException e) {
      loaded.object().close();
      throw e;
    }
  }

  /** loop_health, worker_exits, oom_marks and whether each is in use. */
  public Map<KernelFeature, FeatureStatus> features() {
    return features;
  }

  public boolean has(KernelFeature f) {
    FeatureStatus s = features.get(f);
    return s != null && s.ok();
  }

  /**
   * Starts watching a process (its main thread) with {@link LoopState} flags. Idempotent.
   *
   * @return false when the process is gone
   */
  public boolean watch(long pid, int flags) {
    if (pidfds.containsKey(pid)) {
      return true;
    }
    int fd = pidfdOpen(pid);
    if (fd < 0) {
      return false;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = arena.allocate(LoopState.LAYOUT);
      value.set(ValueLayout.JAVA_INT, LoopState.off("flags"), flags);
      try {
        loops.update(arena.allocateFrom(ValueLayout.JAVA_INT, fd), value, BPF_NOEXIST);
      } catch (BpfException e) {
        if (e.errno() == ESRCH) { // exited between the open and the update
          close(fd);
          return false;
        }
        if (e.errno() != EEXIST) {
          close(fd);
          throw e;
        }
        // created by the fork program (a child of a watched master): keep what it recorded, set the flags
        MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_INT, fd);
        if (loops.lookup(key, value)) {
          value.set(ValueLayout.JAVA_INT, LoopState.off("flags"), flags);
          loops.update(key, value, BpfMap.BPF_ANY);
        }
      }
    }
    pidfds.put(pid, fd);
    return true;
  }

  /** Stops watching a process and forgets its state. */
  public void unwatch(long pid) {
    Integer fd = pidfds.remove(pid);
    if (fd == null) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      loops.delete(arena.allocateFrom(ValueLayout.JAVA_INT, fd));
    } catch (BpfException e) {
      // the process is gone and its storage with it
    } finally {
      close(fd);
    }
  }

  /** The processes watched now. */
  public Set<Long> watched() {
    return Set.copyOf(pidfds.keySet());
  }

  /** A watched process's loop state; empty when it is not watched or has exited. */
  public Optional<LoopState> read(long pid) {
    Integer fd = pidfds.get(pid);
    if (fd == null) {
      return Optional.empty();
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = arena.allocate(LoopState.LAYOUT);
      try {
        if (!loops.lookup(arena.allocateFrom(ValueLayout.JAVA_INT, fd), value)) {
          return Optional.empty();
        }
      } catch (BpfException e) {
        if (e.errno() == ESRCH) {
          return Optional.empty();
        }
        throw e;
      }
      return Optional.of(LoopState.decode(value));
    }
  }

  /** Hands every waiting event to the sink without blocking; returns how many. */
  public int consume() {
    return reader.poll(0);
  }

  /** Events lost to a full ring buffer. */
  public long drops() {
    return drops.sumPerCpuU64(0);
  }

  /** Events that could not be decoded or whose sink threw. */
  public long decodeErrors() {
    return decodeErrors + reader.handlerErrors();
  }

  /** The loaded object (tests: layouts against its BTF). */
  BpfObject object() {
    return object;
  }

  private void onRecord(MemorySegment data) {
    HealthEvent e;
    try {
      e = HealthEvent.decode(data);
    } catch (RuntimeException ex) {
      decodeErrors++;
      return;
    }
    sink.accept(e);
  }

  private static int pidfdOpen(long pid) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Native.captureState(arena);
      long fd = (long) Libbpf.SYSCALL2_E.invokeExact(state, Libbpf.SYS_PIDFD_OPEN, pid, 0L);
      if (fd < 0) {
        int errno = Libbpf.errno(state);
        if (errno == ESRCH || errno == 22 /* EINVAL: not a thread-group leader, or pid 0 */) {
          return -1;
        }
        throw BpfException.fromErrno("pidfd_open " + pid, errno, Libbpf.strerror(errno), List.of());
      }
      return (int) fd;
    } catch (BpfException e) {
      throw e;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  private static void close(int fd) {
    try {
      int unused = (int) Libbpf.CLOSE.invokeExact(fd);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  @Override
  public void close() {
    try {
      reader.close();
    } finally {
      pidfds.values().forEach(WorkerHealthProbe::close);
      pidfds.clear();
      object.close();
    }
  }
}
