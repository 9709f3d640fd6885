package dev.wmscope.agent.probe;

import dev.wmscope.agent.selection.InternalTraffic;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.loader.ConnEventType;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnectionProbe;
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
      probe = ConnectionProbe.start(options, batch::add);
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
    long nextLive = System.nanoTime();
    attached.complete();
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
      live.live(probe.snapshot(), probe.drops(), probe.decodeErrors());
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "read live connection state: " + e.getMessage());
    }
    if (probe.features() != features) {
      logFeatureChanges(probe.features()); // a feature the kernel refused while running
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
      return;
    }
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
    live.publishIfStale(dev.wmscope.loader.MonotonicClock.monotonicNow());
    listeners.forEach(ConnectionListener::endOfBatch);
  }

  /** The running probe, or null before start and after stop. */
  public ConnectionProbe probe() {
    return probe;
  }

  @Override
  public Future<?> stop() {
    running.set(false);
    return vertx.executeBlocking(() -> {
      if (pollThread != null) {
        pollThread.join(5_000);
      }
      closeProbe();
      LOG.log(System.Logger.Level.INFO, "detached BPF programs");
      return null;
    });
  }

  private void closeProbe() {
    ConnectionProbe p = probe;
    probe = null;
    if (p != null) {
      p.close();
    }
  }
}
