package dev.wmscope.agent.probe;

import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.DataRecord;
import dev.wmscope.loader.DropReason;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.loader.MonotonicClock;
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
 * with the loader's error); the thread then polls the ring buffers in 100 ms slices and hands
 * each slice's records to the {@link Delivery}. Stop ends the loop within one slice, then detaches.
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
  private final Consumer<ConnectionProbe> onAttached;
  private final Delivery delivery;
  private final LiveState live;
  private final long liveIntervalNanos;
  private final boolean adoptExisting;
  private final AtomicBoolean running = new AtomicBoolean();
  private final List<ConnRecord> batch = new ArrayList<>();
  private final List<DataRecord> dataBatch = new ArrayList<>();
  private volatile ConnectionProbe probe;
  /** What ended the poll loop, if anything but a stop did (see failure()). */
  private final java.util.concurrent.CompletableFuture<Throwable> failure =
      new java.util.concurrent.CompletableFuture<>();
  private volatile Map<KernelFeature, FeatureStatus> features = Map.of();
  private Thread pollThread;

  /**
   * @param delivery         where each drained batch goes (live state, listeners, requests)
   * @param liveInterval     how often the tcp iterator reads live counters and accept queues
   * @param adoptExisting    whether connections on watched ports that predate tracking are
   *                         adopted (only sound on the root cgroup)
   */
  public ProbeVerticle(ConnectionProbe.Options options, Consumer<ConnectionProbe> onAttached, Delivery delivery,
      java.time.Duration liveInterval, boolean adoptExisting) {
    this.options = options;
    this.onAttached = onAttached;
    this.delivery = delivery;
    this.live = delivery.live();
    this.liveIntervalNanos = liveInterval.toNanos();
    this.adoptExisting = adoptExisting;
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
    try {
      probe = delivery.framesRequests() ? ConnectionProbe.start(options, batch::add, dataBatch::add)
          : ConnectionProbe.start(options.withCaptureBytes(0), batch::add);
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
      pollUntilStopped();
    } catch (Throwable t) {
      // a bug (or an Error such as OutOfMemoryError) ends connection tracking: said, and the
      // agent ends with it (Agent.failure) rather than serving stale figures as if it tracked
      LOG.log(System.Logger.Level.ERROR, "connection tracking stopped: " + t
          + "; the agent stops with exit code 1 so that its service manager restarts it");
      LOG.log(System.Logger.Level.DEBUG, "where connection tracking stopped", t);
      failure.complete(t);
    } finally {
      running.set(false);
      closeProbe(); // on this thread, the one that created it and the only one that polled it
      LOG.log(System.Logger.Level.INFO, "detached BPF programs");
    }
  }

  /** Completes with what ended the poll loop if anything but a stop did; never completes otherwise. */
  public java.util.concurrent.CompletionStage<Throwable> failure() {
    return failure;
  }

  private void pollUntilStopped() {
    long nextLive = System.nanoTime();
    while (running.get()) {
      long drainStart = System.nanoTime();
      // a poll drains the ring until it is empty: what the kernel wrote before it began is in
      long drainedFrom = MonotonicClock.monotonicNow();
      int records = 0;
      boolean polled = false;
      try {
        records = probe.poll(POLL_SLICE_MILLIS);
        polled = true;
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "poll ring buffer: " + e.getMessage());
      }
      delivery.deliver(batch, dataBatch);
      if (polled) {
        delivery.deliveredThrough(drainedFrom);
      }
      long now = System.nanoTime();
      if (now - nextLive >= 0) {
        live.pollLag(now - nextLive);
        nextLive = now + liveIntervalNanos;
        readLive();
        delivery.sweepRequests();
        delivery.deliver(batch, dataBatch); // open records of connections the iterator just adopted
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
      var snapshot = probe.snapshot();
      live.live(snapshot, drops, probe.decodeErrors());
      live.skippedRuns(probe.skippedRuns());
      // client ends of internal links that predate tracking: adopted by a second pass now, not by
      // the next read, so no one ever sees a link's server end a poll interval before its client
      // end (a "missing link" at every GatewayWorker start). Its counters are the first pass's
      // again: only its kernel side effect is wanted (the adopted ends' open records).
      List<Long> adopt = delivery.clientsToAdopt(snapshot.clientCandidates());
      if (!adopt.isEmpty()) {
        adopt.forEach(probe::adoptClient);
        probe.snapshot();
      }
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
