package dev.wmscope.loader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The connection-lifecycle probe: wmscope's BPF object loaded, its sock_ops program attached to
 * a cgroup v2 directory, and a ring-buffer reader decoding {@link ConnRecord}s.
 *
 * <p>Lifecycle: {@link #start} opens, sizes, loads and attaches; if any step fails, everything
 * created so far is released before the exception leaves. {@link #close()} frees the reader,
 * then detaches the link and frees the object (see {@link BpfObject#close()}); idempotent.
 *
 * <p>Threading: {@link #poll} runs on one thread (the agent's poll loop), and close must not
 * overlap it. The watch/unwatch methods and {@link #drops()} may be called from any thread.
 */
public final class ConnectionProbe implements AutoCloseable {
  /** Program and map names in bpf/src/wmscope.bpf.c. */
  static final String OBJECT_RESOURCE = "wmscope.bpf.o";
  static final String PROGRAM_SOCKOPS = "wmscope_sockops";
  static final String PROGRAM_ITER = "wmscope_iter_tcp";
  static final String PROGRAM_ITER_TRACKED = "wmscope_iter_tracked";
  static final String MAP_TRACKED = "tracked";
  /**
   * Every this many {@link #snapshot}s the full tcp walk runs even when nothing changed, for
   * listeners and preexisting connections nobody told the probe about.
   */
  static final int FULL_PASS_EVERY = 10;
  static final String MAP_ITER_CONFIG = "iter_config";
  /** Attribution at the first receive, and the tracepoint it needs (Linux >= 6.3). */
  static final Map<String, String> ATTRIBUTION_PROGRAMS = Map.of("wmscope_tp_recv", "sock_recv_length");
  /** Attribution in accept() (the peer's address asked for), on the cgroup like sock_ops. */
  static final List<String> ACCEPT_PROGRAMS = List.of("wmscope_accept4", "wmscope_accept6");
  /** Reset marks, and the state changes and close of every tracked connection (Linux >= 5.12 with BTF). */
  static final Map<String, String> STATE_PROGRAMS = Map.of(
      "wmscope_tp_send_reset", "tcp_send_reset",
      "wmscope_tp_recv_reset", "tcp_receive_reset",
      "wmscope_tp_set_state", "inet_sock_set_state");
  static final String MAP_EVENTS = "events";
  static final String MAP_CONN_BUDGET = "conn_budget";
  static final String MAP_WATCHED_PORTS = "watched_ports";
  static final String MAP_WATCHED_PIDS = "watched_pids";
  static final String MAP_DROPS = "drop_counters";

  /**
   * Sizing and placement.
   *
   * @param cgroup           cgroup v2 directory to attach to (the hierarchy root sees every process)
   * @param maxConnections   how many connections may be tracked at once (beyond: not tracked, counted)
   * @param ringBufferBytes  ring buffer size: a power of two, multiple of the page size
   */
  public record Options(Path cgroup, int maxConnections, int ringBufferBytes) {
    public static final int DEFAULT_MAX_CONNECTIONS = 262_144;
    public static final int DEFAULT_RING_BUFFER_BYTES = 8 << 20;

    public Options {
      Objects.requireNonNull(cgroup, "cgroup");
      if (maxConnections <= 0) {
        throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
      }
      if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
        throw new IllegalArgumentException(
            "ringBufferBytes must be a power of two of at least 4096: " + ringBufferBytes);
      }
    }

    /** Defaults on the root of the host's cgroup v2 hierarchy. */
    public static Options defaults() {
      return new Options(CgroupV2.requireMount(), DEFAULT_MAX_CONNECTIONS, DEFAULT_RING_BUFFER_BYTES);
    }

    public Options withCgroup(Path dir) {
      return new Options(dir, maxConnections, ringBufferBytes);
    }

    public Options withRingBufferBytes(int bytes) {
      return new Options(cgroup, maxConnections, bytes);
    }

    public Options withMaxConnections(int n) {
      return new Options(cgroup, n, ringBufferBytes);
    }
  }

  private final BpfObject object;
  private final BpfMap watchedPorts;
  private final BpfMap watchedPids;
  private final BpfMap connBudget;
  private final BpfMap drops;
  private final RingBufferReader reader;
  private final Consumer<ConnRecord> sink;
  private final boolean attribution;
  private final BpfMap iterConfig;
  private BpfIterator iterator;
  private BpfIterator trackedIterator;
  private volatile boolean fullPassDue = true;
  private int sinceFullPass;
  boolean lastPassFull; // for tests: which walk the latest snapshot took
  private long decodeErrors;

  private ConnectionProbe(BpfObject object, Consumer<ConnRecord> sink, Options options, boolean attribution) {
    this.attribution = attribution;
    this.iterConfig = object.map(MAP_ITER_CONFIG);
    this.object = object;
    this.sink = sink;
    this.watchedPorts = object.map(MAP_WATCHED_PORTS);
    this.watchedPids = object.map(MAP_WATCHED_PIDS);
    this.connBudget = object.map(MAP_CONN_BUDGET);
    this.drops = object.map(MAP_DROPS);
    // The reader exists before the program is attached, so no early record waits unread.
    this.reader = new RingBufferReader(object.map(MAP_EVENTS), this::onRecord);
    try {
      // attribution first, so no accepted connection can be touched before its hook is in place
      if (attribution) {
        ATTRIBUTION_PROGRAMS.keySet().forEach(p -> object.program(p).attach());
      }
      ACCEPT_PROGRAMS.forEach(p -> object.program(p).attachCgroup(options.cgroup()));
      STATE_PROGRAMS.keySet().forEach(p -> object.program(p).attach());
      iterator = object.program(PROGRAM_ITER).attachIterator();
      trackedIterator = object.program(PROGRAM_ITER_TRACKED).attachIterator(object.map(MAP_TRACKED));
      object.program(PROGRAM_SOCKOPS).attachCgroup(options.cgroup());
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  /**
   * Loads and attaches the probe. Records are handed to {@code sink} on the thread calling
   * {@link #poll}; the sink must copy nothing (records are immutable) and should not block.
   */
  public static ConnectionProbe start(Options options, Consumer<ConnRecord> sink) {
    BpfObject object = BpfObject.openResource(ConnectionProbe.class, OBJECT_RESOURCE);
    try {
      object.setMaxEntries(MAP_EVENTS, options.ringBufferBytes());
      boolean attribution = ATTRIBUTION_PROGRAMS.values().stream().allMatch(BpfObject::kernelHasTracepoint);
      if (!attribution) {
        ATTRIBUTION_PROGRAMS.keySet().forEach(p -> object.setAutoload(p, false));
      }
      object.load();
      setBudget(object.map(MAP_CONN_BUDGET), options.maxConnections()); // before anything is attached
      return new ConnectionProbe(object, sink, options, attribution);
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
  }

  /**
   * Whether accepted connections are attributed to the process that serves them. False on
   * kernels without the sock_recv_length tracepoint (before Linux 6.3): then only connections
   * accepted with the peer's address asked for (PHP, Java) are.
   */
  public boolean attributionAvailable() {
    return attribution;
  }

  /** Port 0 in the watch maps means every port (process 0: every process). */
  public static final int ALL = 0;

  /** Tracks connections accepted on this local port ({@link #ALL}: any port) from now on. */
  public void watchPort(int port) {
    checkPort(port);
    watchedPorts.setU8(port, 1);
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
   * the probe marked, so their cost does not grow with the host's other sockets (TIME_WAIT
   * included). Call from the poll thread.
   */
  public LiveSnapshot snapshot() {
    long now = MonotonicClock.monotonicNow();
    boolean full = fullPassDue || ++sinceFullPass >= FULL_PASS_EVERY;
    if (full) {
      fullPassDue = false;
      sinceFullPass = 0;
    }
    lastPassFull = full;
    return IterLayouts.parse((full ? iterator : trackedIterator).run(), now);
  }

  /**
   * Lets the iterator adopt connections on watched ports that predate tracking. Only sound
   * when attached to the root cgroup: the iterator cannot tell which cgroup a socket is in.
   */
  public void adoptExisting(boolean on) {
    fullPassDue = true;
    try (Arena arena = Arena.ofConfined()) {
      iterConfig.update(arena.allocateFrom(ValueLayout.JAVA_INT, 0),
          arena.allocateFrom(ValueLayout.JAVA_INT, on ? 1 : 0), BpfMap.BPF_ANY);
    }
  }

  /** Kernel-side losses so far, by reason (monotonic counters). */
  public Map<DropReason, Long> drops() {
    Map<DropReason, Long> out = new EnumMap<>(DropReason.class);
    for (DropReason r : DropReason.values()) {
      out.put(r, drops.sumPerCpuU64(r.ordinal()));
    }
    return out;
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
