package dev.wmscope.loader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The connection-lifecycle probe: wmscope's BPF object loaded, its sock_ops program attached to
 * a cgroup v2 directory, and a ring-buffer reader decoding {@link ConnRecord}s.
 *
 * <p>Lifecycle: {@link #start} opens, sizes, loads and attaches the core and every optional
 * {@link KernelFeature} the kernel allows ({@link #features()} tells which); if the core fails,
 * everything created so far is released before the exception leaves. {@link #close()} frees the reader,
 * then detaches the link and frees the object (see {@link BpfObject#close()}); idempotent.
 *
 * <p>Threading: {@link #poll} runs on one thread (the agent's poll loop), and close must not
 * overlap it. The watch/unwatch methods and {@link #drops()} may be called from any thread.
 */
public final class ConnectionProbe implements AutoCloseable {
  /** Program and map names in bpf/src/wmscope.bpf.c. */
  static final String OBJECT_RESOURCE = "wmscope.bpf.o";
  static final String PROGRAM_SOCKOPS = "wmscope_sockops";
  static final String PROGRAM_SET_STATE = "wmscope_tp_set_state";
  /**
   * The tracepoint programs (the state tracepoint and each feature's that attaches to one): the
   * kernel skips a run of one that fires on top of itself (skippedRuns()).
   */
  private static final List<String> TRACING_PROGRAMS = Stream.concat(Stream.of(PROGRAM_SET_STATE),
      KernelFeature.connectionFeatures().stream().filter(f -> !f.tracepoints().isEmpty())
          .flatMap(f -> f.programs().stream())).toList();
  static final String MAP_TRACKED = "tracked";
  /**
   * Every this many {@link #snapshot}s the full tcp walk runs even when nothing changed, for
   * listeners and preexisting connections nobody told the probe about.
   */
  static final int FULL_PASS_EVERY = 10;
  static final String MAP_ITER_CONFIG = "iter_config";
  static final String MAP_EVENTS = "events";
  static final String MAP_CONN_BUDGET = "conn_budget";
  static final String MAP_WATCHED_PORTS = "watched_ports";
  static final String MAP_WATCHED_PIDS = "watched_pids";
  static final String MAP_DROPS = "drop_counters";
  static final String MAP_DATA_EVENTS = "data_events";
  static final String MAP_CAPTURE_CONFIG = "capture_config";
  static final String MAP_DATA_SCRATCH = "data_scratch";
  private static final int EBADF = 9;
  private static final int ENOTDIR = 20;

  /**
   * Sizing, placement and the features to leave out.
   *
   * @param cgroup           cgroup v2 directory to attach to (the hierarchy root sees every process)
   * @param maxConnections   how many connections may be tracked at once (beyond: not tracked, counted)
   * @param ringBufferBytes  ring buffer size: a power of two, multiple of the page size
   * @param disabled         optional features to switch off as if the kernel had refused them
   * @param captureBytes     request capture: bytes copied from the start of each read and send of
   *                         a captured connection (0 switches request capture off)
   */
  public record Options(Path cgroup, int maxConnections, int ringBufferBytes, Set<KernelFeature> disabled,
      int captureBytes) {
    public static final int DEFAULT_MAX_CONNECTIONS = 262_144;
    public static final int DEFAULT_RING_BUFFER_BYTES = 8 << 20;
    /** Enough for the request line and headers of nearly every request, and several pipelined. */
    public static final int DEFAULT_CAPTURE_BYTES = 4096;

    public Options {
      Objects.requireNonNull(cgroup, "cgroup");
      if (maxConnections <= 0) {
        throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
      }
      if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
        throw new IllegalArgumentException(
            "ringBufferBytes must be a power of two of at least 4096: " + ringBufferBytes);
      }
      disabled = disabled.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(disabled));
      if (captureBytes < 0 || captureBytes > DataRecord.CAPTURE_MAX) {
        throw new IllegalArgumentException("captureBytes must be 0.." + DataRecord.CAPTURE_MAX + ": " + captureBytes);
      }
    }

    public Options(Path cgroup, int maxConnections, int ringBufferBytes, Set<KernelFeature> disabled) {
      this(cgroup, maxConnections, ringBufferBytes, disabled, DEFAULT_CAPTURE_BYTES);
    }

    public Options(Path cgroup, int maxConnections, int ringBufferBytes) {
      this(cgroup, maxConnections, ringBufferBytes, Set.of());
    }

    /**
     * Defaults on the root of the host's cgroup v2 hierarchy, without the features that
     * {@value KernelFeature#DISABLE_ENV} switches off.
     */
    public static Options defaults() {
      return new Options(CgroupV2.requireMount(), DEFAULT_MAX_CONNECTIONS, DEFAULT_RING_BUFFER_BYTES,
          KernelFeature.disabledByEnvironment());
    }

    public Options withCgroup(Path dir) {
      return new Options(dir, maxConnections, ringBufferBytes, disabled, captureBytes);
    }

    public Options withRingBufferBytes(int bytes) {
      return new Options(cgroup, maxConnections, bytes, disabled, captureBytes);
    }

    public Options withMaxConnections(int n) {
      return new Options(cgroup, n, ringBufferBytes, disabled, captureBytes);
    }

    /** Bytes copied per read and send of captured connections; 0: no request capture. */
    public Options withCaptureBytes(int bytes) {
      return new Options(cgroup, maxConnections, ringBufferBytes, disabled, bytes);
    }

    /** These features off too (on top of the ones already off). */
    public Options withDisabled(Set<KernelFeature> features) {
      Set<KernelFeature> all = EnumSet.noneOf(KernelFeature.class);
      all.addAll(disabled);
      all.addAll(features);
      return new Options(cgroup, maxConnections, ringBufferBytes, all, captureBytes);
    }
  }

  private final BpfObject object;
  private final BpfMap watchedPorts;
  private final BpfMap watchedPids;
  private final BpfMap connBudget;
  private final BpfMap drops;
  private final RingBufferReader reader;
  private final Consumer<ConnRecord> sink;
  private final Consumer<DataRecord> dataSink;
  private final BpfMap iterConfig;
  private final BpfMap adoptClients;
  private final Map<KernelFeature, FeatureStatus> features = new EnumMap<>(KernelFeature.class);
  private volatile Map<KernelFeature, FeatureStatus> featuresView;
  private BpfIterator iterator; // iter/tcp, null without tcp_iter
  private BpfIterator trackedIterator; // null without tracked_iter
  private volatile boolean fullPassDue = true;
  private int sinceFullPass;
  boolean lastPassFull; // for tests: which walk the latest snapshot took
  private long decodeErrors;

  private ConnectionProbe(BpfObject object, Consumer<ConnRecord> sink, Consumer<DataRecord> dataSink,
      Options options, Map<KernelFeature, String> lost) {
    this.dataSink = dataSink;
    this.iterConfig = object.map(MAP_ITER_CONFIG);
    this.adoptClients = object.map("adopt_clients");
    this.object = object;
    this.sink = sink;
    this.watchedPorts = object.map(MAP_WATCHED_PORTS);
    this.watchedPids = object.map(MAP_WATCHED_PIDS);
    this.connBudget = object.map(MAP_CONN_BUDGET);
    this.drops = object.map(MAP_DROPS);
    for (KernelFeature f : KernelFeature.connectionFeatures()) {
      features.put(f, lost.containsKey(f) ? FeatureStatus.lost(f, lost.get(f)) : FeatureStatus.ok(f));
    }
    // The reader exists before the program is attached, so no early record waits unread.
    this.reader = new RingBufferReader(object.map(MAP_EVENTS), this::onRecord);
    try {
      if (available(KernelFeature.REQUEST_CAPTURE)) {
        reader.add(object.map(MAP_DATA_EVENTS), this::onData);
      }
      // attribution first, so no accepted connection can be touched before its hooks are in place.
      // With request capture its receive program attributes too (one program per receive of every
      // socket of the host instead of two), so recv_attribution's own is attached only without it.
      boolean merged = false;
      if (available(KernelFeature.REQUEST_CAPTURE) && available(KernelFeature.RECV_ATTRIBUTION)) {
        setCaptureSwitch(1, 1);
        merged = attachOptional(KernelFeature.REQUEST_CAPTURE, p -> object.program(p).attach()) != null;
        if (!merged) {
          setCaptureSwitch(1, 0);
        }
      }
      if (!merged) {
        attachOptional(KernelFeature.RECV_ATTRIBUTION, p -> object.program(p).attach());
      }
      attachOptional(KernelFeature.ACCEPT_ATTRIBUTION, p -> object.program(p).attachCgroup(options.cgroup()));
      attachOptional(KernelFeature.RESET_MARKS, p -> object.program(p).attach());
      if (!merged) {
        attachOptional(KernelFeature.REQUEST_CAPTURE, p -> object.program(p).attach());
      }
      object.program(PROGRAM_SET_STATE).attach();
      iterator = attachOptional(KernelFeature.TCP_ITER, p -> object.program(p).attachIterator());
      trackedIterator = attachOptional(KernelFeature.TRACKED_ITER,
          p -> object.program(p).attachIterator(object.map(MAP_TRACKED)));
      if (!available(KernelFeature.TCP_ITER)) {
        lose(KernelFeature.ADOPTION, "needs tcp_iter, which is not available");
      }
      object.program(PROGRAM_SOCKOPS).attachCgroup(options.cgroup());
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
    featuresView = Map.copyOf(features);
    // no hook sees the owner of an accepted socket at accept: the live reads attribute by inode
    // what no receive has attributed by then (a connection whose client never sends, a WebSocket
    // worker pushing to idle clients, would otherwise stay unseen until its close)
    setIterSwitch(ITER_ATTRIBUTE_BY_INODE, !available(KernelFeature.ACCEPT_ATTRIBUTION));
  }

  private void setCaptureSwitch(int key, int value) {
    try (Arena arena = Arena.ofConfined()) {
      object.map(MAP_CAPTURE_CONFIG).update(arena.allocateFrom(ValueLayout.JAVA_INT, key),
          arena.allocateFrom(ValueLayout.JAVA_INT, value), BpfMap.BPF_ANY);
    }
  }

  /** Keys of iter_config (bpf/src/maps/iter_config.h). */
  private static final int ITER_ADOPT = 0;
  private static final int ITER_ATTRIBUTE_BY_INODE = 1;
  private static final int CFG_TP_LEAVES_SOCKOPS_CLOSES = 2;

  /**
   * Tests only: the state tracepoint leaves the close of every connection sock_ops follows to
   * sock_ops' state callback, which must then finish them alone (the agent never sets this: the
   * tracepoint is the net under that path).
   */
  void leaveSockopsClosesToSockops(boolean on) {
    setIterSwitch(CFG_TP_LEAVES_SOCKOPS_CLOSES, on);
  }

  private void setIterSwitch(int key, boolean on) {
    try (Arena arena = Arena.ofConfined()) {
      iterConfig.update(arena.allocateFrom(ValueLayout.JAVA_INT, key),
          arena.allocateFrom(ValueLayout.JAVA_INT, on ? 1 : 0), BpfMap.BPF_ANY);
    }
  }

  /**
   * Attaches each program of an available feature; a refusal loses the feature (its programs
   * stay loaded, unattached, until close) instead of failing the start. A cgroup that is not one
   * (EBADF, ENOTDIR) is the operator's error, not the kernel's policy: that still fails.
   * Returns the last attachment (or null when the feature is lost).
   */
  private <T> T attachOptional(KernelFeature f, java.util.function.Function<String, T> attach) {
    if (!available(f)) {
      return null;
    }
    T last = null;
    for (String p : f.programs()) {
      try {
        last = attach.apply(p);
      } catch (BpfException e) {
        if (e.errno() == EBADF || e.errno() == ENOTDIR) {
          throw e;
        }
        lose(f, "refused by the kernel: " + BpfException.errnoName(e.errno()) + " attaching " + p);
        return null;
      }
    }
    return last;
  }

  private boolean available(KernelFeature f) {
    return features.get(f).ok();
  }

  private void lose(KernelFeature f, String cause) {
    if (available(f)) {
      features.put(f, FeatureStatus.lost(f, cause));
      featuresView = Map.copyOf(features);
    }
  }

  /**
   * Loads and attaches the probe with every optional feature this kernel allows (see
   * {@link FeatureLoader}; {@link #features()} says which are in use). Records are handed to
   * {@code sink} on the thread calling {@link #poll}; the sink must copy nothing (records are
   * immutable) and should not block.
   *
   * @throws BpfException when the core cannot be loaded or attached
   */
  public static ConnectionProbe start(Options options, Consumer<ConnRecord> sink) {
    return start(options, sink, d -> {});
  }

  /**
   * As {@link #start(Options, Consumer)}, with request capture: the data records of captured
   * connections (see {@link #watchPort(int, boolean)}) go to {@code dataSink} on the polling
   * thread, in kernel order per connection and direction.
   */
  public static ConnectionProbe start(Options options, Consumer<ConnRecord> sink, Consumer<DataRecord> dataSink) {
    Map<KernelFeature, String> off = new EnumMap<>(KernelFeature.class);
    options.disabled().forEach(f -> off.put(f, "turned off by " + KernelFeature.DISABLE_ENV));
    if (options.captureBytes() == 0) {
      off.putIfAbsent(KernelFeature.REQUEST_CAPTURE, "turned off (a capture budget of 0 bytes)");
    }
    for (String t : KernelFeature.CORE_TRACEPOINTS) {
      if (!BpfObject.kernelHasTracepoint(t)) {
        throw Native.failure("load BPF object " + OBJECT_RESOURCE, "this kernel has no " + t + " tracepoint",
            "wmscope needs Linux >= 5.12 with BTF (CONFIG_DEBUG_INFO_BTF=y)");
      }
    }
    var spec = new FeatureLoader.Spec<>(OBJECT_RESOURCE, objectBytes(), KernelFeature.CORE_PROGRAMS,
        KernelFeature.connectionFeatures(), o -> {
          o.setMaxEntries(MAP_EVENTS, options.ringBufferBytes());
          // the page the kernel needs at least when nothing is captured
          o.setMaxEntries(MAP_DATA_EVENTS, options.captureBytes() == 0 ? 4096 : options.ringBufferBytes());
          o.setMaxEntries(MAP_DATA_SCRATCH, options.captureBytes() == 0 ? 1 : PossibleCpus.count());
        });
    FeatureLoader.Loaded<KernelFeature> loaded = FeatureLoader.load(spec, off, BpfObject::kernelHasTracepoint);
    BpfObject object = loaded.object();
    try {
      setBudget(object.map(MAP_CONN_BUDGET), options.maxConnections()); // before anything is attached
      try (Arena arena = Arena.ofConfined()) {
        object.map(MAP_CAPTURE_CONFIG).update(arena.allocateFrom(ValueLayout.JAVA_INT, 0),
            arena.allocateFrom(ValueLayout.JAVA_INT, options.captureBytes()), BpfMap.BPF_ANY);
      }
      return new ConnectionProbe(object, sink, dataSink, options, loaded.lost());
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
  }

  /** The compiled object, read once from the classpath. */
  private static byte[] objectBytes() {
    return resourceBytes(OBJECT_RESOURCE);
  }

  /** A compiled object of this package, from the classpath. */
  static byte[] resourceBytes(String resource) {
    try (var in = ConnectionProbe.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw Native.failure("open BPF object " + resource, "resource not found on the classpath",
            "the loader jar was built without the BPF object: rebuild with clang installed");
      }
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Every optional feature and whether it is in use (an immutable snapshot; a feature the kernel
   * refuses later, e.g. an iterator whose read fails, changes it). Any thread.
   */
  public Map<KernelFeature, FeatureStatus> features() {
    return featuresView;
  }

  /** The loaded object (tests: which programs are in the kernel). */
  BpfObject object() {
    return object;
  }

  /** Whether this feature is in use now. */
  public boolean has(KernelFeature f) {
    return featuresView.get(f).ok();
  }

  /** Port 0 in the watch maps means every port (process 0: every process). */
  public static final int ALL = 0;

  /** Tracks connections accepted on this local port ({@link #ALL}: any port) from now on. */
  public void watchPort(int port) {
    watchPort(port, false);
  }

  /**
   * Tracks connections accepted on this local port from now on and, with {@code capture}, hands
   * the first bytes of their reads and sends to the data sink (HTTP and WebSocket workers).
   * Connections already tracked keep what they had.
   */
  public void watchPort(int port, boolean capture) {
    checkPort(port);
    watchedPorts.setU8(port, capture && has(KernelFeature.REQUEST_CAPTURE) ? 3 : 1);
    fullPassDue = true;
  }

  public void unwatchPort(int port) {
    checkPort(port);
    watchedPorts.setU8(port, 0);
    fullPassDue = true;
  }

  /** Tracks connections this process (tgid; {@link #ALL}: any process) initiates from now on. */
  public void watchPid(int pid) {
    watchedPids.putU32(pid);
    fullPassDue = true;
  }

  public void unwatchPid(int pid) {
    watchedPids.removeU32(pid);
    fullPassDue = true;
  }

  /** Waits up to {@code timeoutMillis} for records and delivers them to the sink. */
  public int poll(int timeoutMillis) {
    return reader.poll(timeoutMillis);
  }

  /**
   * Current counters of every tracked open connection and the accept queue of every listener on
   * a watched port. The first snapshot, the first after any watch change and every
   * {@link #FULL_PASS_EVERY}th walk every TCP socket of the namespace (iter/tcp): they find the
   * listeners and, when adoption is on, adopt connections on watched ports that are not tracked
   * yet (their open records arrive through {@link #poll}). The others walk only the sockets
   * the probe marked (tracked_iter), so their cost does not grow with the host's other sockets
   * (TIME_WAIT included). Without tracked_iter every snapshot takes the full walk; without
   * tcp_iter every one walks the marked sockets (connections only, no listeners); without both
   * a snapshot is empty. Call from the poll thread.
   */
  public LiveSnapshot snapshot() {
    long now = MonotonicClock.monotonicNow();
    if (iterator == null && trackedIterator == null) {
      lastPassFull = false;
      return new LiveSnapshot(now, List.of(), List.of());
    }
    boolean full = iterator != null
        && (trackedIterator == null || fullPassDue || ++sinceFullPass >= FULL_PASS_EVERY);
    if (full) {
      fullPassDue = false;
      sinceFullPass = 0;
    }
    lastPassFull = full;
    if (full) {
      return IterLayouts.parse(iterator.run(), now);
    }
    try {
      return IterLayouts.parse(trackedIterator.run(), now);
    } catch (BpfException e) {
      // refused at read time (a policy applied after attach): fall back for good
      lose(KernelFeature.TRACKED_ITER, "refused by the kernel: " + BpfException.errnoName(e.errno())
          + " reading " + KernelFeature.TRACKED_ITER.programs().getFirst());
      trackedIterator = null;
      if (iterator == null) {
        throw e;
      }
      lastPassFull = true;
      return IterLayouts.parse(iterator.run(), now);
    }
  }

  /**
   * Lets the iterator adopt connections on watched ports that predate tracking. Only sound
   * when attached to the root cgroup: the iterator cannot tell which cgroup a socket is in.
   * Stays off without the adoption feature.
   */
  public void adoptExisting(boolean on) {
    fullPassDue = true;
    setIterSwitch(ITER_ADOPT, on && has(KernelFeature.ADOPTION));
  }

  /**
   * Adopts, at the next full pass, an untracked connection the last pass reported as a client
   * candidate ({@link LiveSnapshot#clientCandidates()}): the caller found a watched process
   * holding it. Without the adoption feature this does nothing.
   */
  public void adoptClient(long cookie) {
    if (!has(KernelFeature.ADOPTION)) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      adoptClients.update(arena.allocateFrom(ValueLayout.JAVA_LONG, cookie),
          arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 1), BpfMap.BPF_ANY);
    } catch (BpfException e) {
      return; // the map is full (4096 pending): the next full pass reports it again
    }
    fullPassDue = true;
  }

  /** Kernel-side losses so far, by reason (monotonic counters). */
  public Map<DropReason, Long> drops() {
    Map<DropReason, Long> out = new EnumMap<>(DropReason.class);
    for (DropReason r : DropReason.values()) {
      out.put(r, drops.sumPerCpuU64(r.ordinal()));
    }
    return out;
  }

  /**
   * Runs of the tracing programs the kernel skipped because one fired on top of itself on a CPU
   * (bpf_prog_info.recursion_misses), since load. Most lose nothing (the state tracepoint runs
   * for every socket of the host, and sock_ops closes the connections it tracked on its own);
   * one can lose an adopted connection's close, a reset mark, or a capture record (that stream
   * resyncs). Call from the poll thread.
   */
  public long skippedRuns() {
    long skipped = 0;
    for (String p : TRACING_PROGRAMS) {
      skipped += object.program(p).missedRuns();
    }
    return skipped;
  }

  /** Records that could not be decoded or whose sink threw (counted, never propagated). */
  public long decodeErrors() {
    return decodeErrors + reader.handlerErrors();
  }

  /** Connections the kernel tracks now (its budget counter: diagnostics and tests). */
  public long trackedConnections() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment budget = arena.allocate(BUDGET);
      connBudget.lookup(arena.allocateFrom(ValueLayout.JAVA_INT, 0), budget);
      return budget.get(ValueLayout.JAVA_LONG, 0);
    }
  }

  /** struct wm_budget: tracked now, and the limit. */
  static final java.lang.foreign.StructLayout BUDGET = MemoryLayout.structLayout(
      ValueLayout.JAVA_LONG.withName("open"), ValueLayout.JAVA_LONG.withName("max"));

  private static void setBudget(BpfMap budget, int maxConnections) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = arena.allocate(BUDGET);
      value.set(ValueLayout.JAVA_LONG, BUDGET.byteOffset(MemoryLayout.PathElement.groupElement("max")), maxConnections);
      budget.update(arena.allocateFrom(ValueLayout.JAVA_INT, 0), value, BpfMap.BPF_ANY);
    }
  }

  private void onRecord(MemorySegment data) {
    ConnRecord record;
    try {
      record = ConnEventLayout.decode(data);
    } catch (RuntimeException e) {
      decodeErrors++;
      return;
    }
    sink.accept(record);
  }

  private void onData(MemorySegment data) {
    DataRecord record;
    try {
      record = DataRecord.decode(data);
    } catch (RuntimeException e) {
      decodeErrors++;
      return;
    }
    dataSink.accept(record);
  }

  private static void checkPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range 1-65535: " + port);
    }
  }

  @Override
  public void close() {
    try {
      reader.close();
    } finally {
      object.close();
    }
  }
}
