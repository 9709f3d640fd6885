package dev.wmscope.agent.probe;

import dev.wmscope.agent.selection.InternalTraffic;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.loader.ConnEventType;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.DataRecord;
import dev.wmscope.agent.requests.RequestTracker;
import dev.wmscope.loader.DropReason;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Owns the kernel probe and its poll thread. Start loads and attaches the programs, runs
 * {@code onAttached} (the first discovery pass fills the watch maps) and completes (or fails
 * with the loader's error); the thread then polls the ring buffer in 100 ms slices and hands
 * each slice's events to the listeners. Stop ends the loop within one slice, then detaches.
 *
 * <p>Ownership: the poll thread is the probe's one owner for its whole life: it creates the
 * probe, is the only thread that polls and reads it, and closes it (detaching the programs)
 * when its loop ends. {@link #stop()} only asks the loop to end and waits for that thread; it
 * never closes the probe from another thread. Other threads only update the watch maps (which
 * the kernel makes safe) until the loop ends.
 */
public final class ProbeVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(ProbeVerticle.class.getName());
  static final int POLL_SLICE_MILLIS = 100;
  /**
   * Shortest time from one ring-buffer drain to the next. The kernel wakes the poll for nearly
   * every record, so at a thousand connections/s each drain carried one or two records and paid
   * a wakeup, a hand-off to the listeners and a writer flush for each: most of the agent's CPU
   * at that rate (bench/README.md). Waiting out the rest of this window after a non-empty drain
   * lets records accumulate; the ring buffer (8 MiB by default) holds far more than 10 ms of
   * them at any rate a host carries, and stop still ends the loop within one slice.
   */
  static final long MIN_DRAIN_INTERVAL_NANOS = 10_000_000L;

  private final ConnectionProbe.Options options;
  private final ProcessDirectory directory;
  private final InternalTraffic internal;
  private final Consumer<ConnectionProbe> onAttached;
  private final List<ConnectionListener> listeners;
  private final LiveState live;
  private final long liveIntervalNanos;
  private final boolean adoptExisting;
  private final AtomicBoolean running = new AtomicBoolean();
  private final List<ConnRecord> batch = new ArrayList<>();
  private final List<DataRecord> dataBatch = new ArrayList<>();
  private final RequestTracker requests;
  private volatile ConnectionProbe probe;
  private volatile Map<KernelFeature, FeatureStatus> features = Map.of();
  private Thread pollThread;

  /**
   * @param live             open-connection state; it reports byte, RTT and retransmit metrics
   * @param liveInterval     how often the tcp iterator reads live counters and accept queues
   * @param adoptExisting    whether connections on watched ports that predate tracking are
   *                         adopted (only sound on the root cgroup)
   */
  public ProbeVerticle(ConnectionProbe.Options options, ProcessDirectory directory, InternalTraffic internal,
      Consumer<ConnectionProbe> onAttached, List<ConnectionListener> listeners, LiveState live,
      java.time.Duration liveInterval, boolean adoptExisting) {
    this(options, directory, internal, onAttached, listeners, live, liveInterval, adoptExisting, null);
  }

  /**
   * @param requests frames the data records of captured connections (request telemetry); null
   *                 when request capture is off
   */
  public ProbeVerticle(ConnectionProbe.Options options, ProcessDirectory directory, InternalTraffic internal,
      Consumer<ConnectionProbe> onAttached, List<ConnectionListener> listeners, LiveState live,
      java.time.Duration liveInterval, boolean adoptExisting, RequestTracker requests) {
    this.requests = requests;
    this.live = live;
    this.liveIntervalNanos = liveInterval.toNanos();
    this.adoptExisting = adoptExisting;
    this.options = options;
    this.directory = directory;
    this.internal = internal;
    this.onAttached = onAttached;
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public Future<?> start() {
    Promise<Void> attached = Promise.promise();
    running.set(true);
    // a daemon: if stop never comes (a failed shutdown), it must not keep the process alive;
    // the kernel detaches the programs when the process exits
    pollThread = Thread.ofPlatform().name("wmscope-poll").daemon().start(() -> run(attached));
    return attached.future();
  }

  private void run(Promise<Void> attached) {
    RecordMapper mapper;
    try {
      mapper = new RecordMapper(new MonotonicClock(), directory, internal);
      probe = requests == null ? ConnectionProbe.start(options.withCaptureBytes(0), batch::add)
          : ConnectionProbe.start(options, batch::add, dataBatch::add);
      logFeatureChanges(probe.features());
      onAttached.accept(probe);
      probe.adoptExisting(adoptExisting);
    } catch (RuntimeException e) {
      running.set(false);
      closeProbe();
      attached.fail(e);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "attached sock_ops to cgroup {0}", options.cgroup());
    attached.complete();
    try {
      pollUntilStopped(mapper);
    } finally {
      closeProbe(); // on this thread, the one that created it and the only one that polled it
      LOG.log(System.Logger.Level.INFO, "detached BPF programs");
    }
  }

  private void pollUntilStopped(RecordMapper mapper) {
    long nextLive = System.nanoTime();
    while (running.get()) {
      long drainStart = System.nanoTime();
      int records = 0;
      try {
        records = probe.poll(POLL_SLICE_MILLIS);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "poll ring buffer: " + e.getMessage());
      }
      deliver(mapper);
      long now = System.nanoTime();
      if (now - nextLive >= 0) {
        live.pollLag(now - nextLive);
        nextLive = now + liveIntervalNanos;
        readLive();
        if (requests != null) {
          requests.retain(live::isOpen, 100); // a close record lost: state idle for 100 drains goes
        }
        deliver(mapper); // open records of connections the iterator just adopted
      }
      long rest = MIN_DRAIN_INTERVAL_NANOS - (System.nanoTime() - drainStart);
      if (records > 0 && rest > 0) {
        LockSupport.parkNanos(rest); // coalesce wakeups (see MIN_DRAIN_INTERVAL_NANOS)
      }
    }
  }

  private void readLive() {
    try {
      Map<DropReason, Long> drops = probe.drops();
      live.live(probe.snapshot(), drops, probe.decodeErrors());
      noteBudget(drops.getOrDefault(DropReason.CONN_MAP_FULL, 0L));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "read live connection state: " + e.getMessage());
    }
    if (probe.features() != features) {
      logFeatureChanges(probe.features()); // a feature the kernel refused while running
    }
  }

  private long budgetDrops;
  private boolean budgetFull;

  /**
   * One WARN line when the kernel first leaves connections untracked for lack of budget
   * (--max-connections), one INFO line when it has room again (no new untracked connection
   * since the last read, fewer tracked than the limit): not a line per connection or per read.
   */
  private void noteBudget(long untrackedSoFar) {
    long now = untrackedSoFar - budgetDrops;
    budgetDrops = untrackedSoFar;
    if (now > 0 && !budgetFull) {
      budgetFull = true;
      LOG.log(System.Logger.Level.WARNING, "connection tracking is full (--max-connections "
          + options.maxConnections() + "): " + untrackedSoFar + " connection(s) not tracked so far, counted in"
          + " wmscope.events.dropped (conn_map_full); raise --max-connections to track them");
    } else if (now == 0 && budgetFull && probe.trackedConnections() < options.maxConnections()) {
      budgetFull = false;
      LOG.log(System.Logger.Level.INFO, "connection tracking has room again (" + probe.trackedConnections() + " of "
          + options.maxConnections() + " tracked); " + untrackedSoFar + " connection(s) were not tracked");
    }
  }

  /** One WARN line per feature lost since the last call: what, why, and what replaces it. */
  private void logFeatureChanges(Map<KernelFeature, FeatureStatus> now) {
    for (FeatureStatus f : now.values()) {
      FeatureStatus before = features.get(f.feature());
      if (!f.ok() && (before == null || before.ok())) {
        LOG.log(System.Logger.Level.WARNING, "kernel feature " + f.describe());
      }
    }
    features = now;
  }

  /** Each optional kernel feature and whether it is in use (empty before the probe loaded). */
  public Map<KernelFeature, FeatureStatus> features() {
    return features;
  }

  private void deliver(RecordMapper mapper) {
    if (batch.isEmpty()) {
      deliverData(Map.of());
      return;
    }
    // a close is applied after the data records of its connection that came before it
    Map<Long, List<DataRecord>> dataByConn = groupData();
    live.prefetchOwners(batch);
    live.eventsHandled(batch.size());
    for (ConnRecord r : batch) {
      ConnectionEvent e = mapper.toEvent(r);
      boolean open = r.type() == ConnEventType.OPEN;
      try {
        if (open) {
          e = live.resolveOwner(r, e);
          live.opened(r.cookie(), e);
        } else {
          e = live.closed(r.cookie(), e);
        }
        if (!open && requests != null) {
          feed(dataByConn.remove(r.cookie()));
          requests.closed(r.cookie(), e, r.endMonoNanos());
        }
      } catch (RuntimeException ex) {
        LOG.log(System.Logger.Level.WARNING, "record connection event: " + ex);
      }
      for (ConnectionListener l : listeners) {
        try {
          if (open) {
            l.opened(e);
          } else {
            l.closed(e);
          }
        } catch (RuntimeException ex) {
          LOG.log(System.Logger.Level.WARNING, "deliver connection event: " + ex);
        }
      }
    }
    batch.clear();
    deliverData(dataByConn);
    live.publishIfStale(dev.wmscope.loader.MonotonicClock.monotonicNow());
    listeners.forEach(ConnectionListener::endOfBatch);
  }

  /** The batch's data records by connection, each connection's in kernel order. */
  private Map<Long, List<DataRecord>> groupData() {
    if (requests == null || dataBatch.isEmpty()) {
      return Map.of();
    }
    Map<Long, List<DataRecord>> out = new java.util.LinkedHashMap<>();
    for (DataRecord d : dataBatch) {
      out.computeIfAbsent(d.cookie(), c -> new ArrayList<>(4)).add(d);
    }
    dataBatch.clear();
    return out;
  }

  private void feed(List<DataRecord> records) {
    if (records != null) {
      records.forEach(requests::data);
    }
  }

  /** The data records not fed before a close, then what the batch framed, to the request listeners. */
  private void deliverData(Map<Long, List<DataRecord>> grouped) {
    if (requests == null) {
      return;
    }
    try {
      if (!dataBatch.isEmpty()) {
        dataBatch.forEach(requests::data);
        dataBatch.clear();
      }
      grouped.values().forEach(this::feed);
      requests.endOfBatch(live::openEvent);
    } catch (RuntimeException ex) {
      dataBatch.clear();
      LOG.log(System.Logger.Level.WARNING, "frame requests: " + ex);
    }
  }

  /** The running probe, or null before start and after the poll loop ended. For the poll thread and the watch maps. */
  public ConnectionProbe probe() {
    return probe;
  }

  /**
   * Asks the poll loop to end and waits (at most {@link #STOP_WAIT_MILLIS}) for its thread,
   * which detaches the programs as it ends. If it does not end in time (a listener stuck in a
   * blocking call), the probe is left to that thread and the kernel detaches everything when
   * the process exits: closing it here could free memory the thread is still reading.
   */
  @Override
  public Future<?> stop() {
    running.set(false);
    return vertx.executeBlocking(() -> {
      Thread t = pollThread;
      if (t != null) {
        t.join(STOP_WAIT_MILLIS);
        if (t.isAlive()) {
          LOG.log(System.Logger.Level.WARNING, "the poll thread did not end within " + STOP_WAIT_MILLIS
              + " ms; the kernel detaches the BPF programs when the process exits");
        }
      }
      return null;
    });
  }

  /** How long stop waits for the poll loop: one poll slice plus a live read, with room. */
  static final long STOP_WAIT_MILLIS = 3_000;

  private void closeProbe() {
    ConnectionProbe p = probe;
    probe = null;
    if (p != null) {
      p.close();
    }
  }
}
