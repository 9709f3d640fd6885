package dev.wmscope.agent.probe;

import dev.wmscope.agent.selection.InodeOwners;
import dev.wmscope.agent.selection.SocketOwners;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.DropReason;
import dev.wmscope.loader.ListenerState;
import dev.wmscope.loader.LiveConn;
import dev.wmscope.loader.LiveSnapshot;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.ConnectionTelemetry;
import dev.wmscope.otel.HostTelemetry;
import dev.wmscope.otel.WorkerIdentity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The agent's view of open connections, listeners and workers, kept from the kernel's records
 * (open/close) and the iterator's live reads, and the one place that reports byte and
 * retransmit counters: each live read adds only what moved since the last report, and a close
 * adds only what no live read reported, so nothing is counted twice.
 *
 * <p>Stalls: a connection whose receive queue holds unread bytes while the application's read
 * position (copied_seq) does not move is stuck since the first read that saw it so; its worker
 * is stalled once a connection has been stuck for the threshold.
 *
 * <p>Threading: every mutating method runs on the poll thread. Readers on other threads (HTTP
 * API, metric collection) use {@link #view()}, an immutable snapshot published after each change.
 */
public final class LiveState implements HostTelemetry.View {
  private static final System.Logger LOG = System.getLogger(LiveState.class.getName());

  /** An open connection: what opened it and what has been reported of it. */
  public record OpenConn(ConnectionEvent event, long cookie, long receivedReported, long sentReported,
      long retransReported, long srttMicros, long rcvQueue, long sndQueue, long copiedSeq, long stuckSinceNanos) {}

  /** A listening socket with the processes holding it. */
  public record Listener(ListenerState state, long pid, WorkerIdentity worker, Set<Long> holders) {}

  /**
   * An immutable snapshot for readers.
   *
   * @param stats rolling aggregates: per-owner and per-peer counters, rates, RTT percentiles,
   *              host history and the agent's own work ({@link TrafficStats})
   */
  public record View(long monoNanos, List<OpenConn> connections, List<Listener> listeners,
      List<HostTelemetry.WorkerGauge> workers, List<HostTelemetry.ShareGauge> shares,
      Map<String, Long> dropped, TrafficStats.Snapshot stats) {}

  private final ConnectionTelemetry telemetry;
  private final ProcessDirectory directory;
  private final SocketOwners owners;
  private final long stallThresholdNanos;

  private final Map<Long, OpenConn> open = new HashMap<>();
  private final Map<Long, Long> listenerDropsSeen = new HashMap<>();
  private final Map<Integer, Map<Long, Long>> acceptedByPortAndPid = new HashMap<>();
  private final Map<String, Long> droppedSeen = new HashMap<>();
  private final Set<Long> stalledPids = new HashSet<>();
  private HostTelemetry host;
  private List<Listener> listeners = List.of();
  private final TrafficStats stats = new TrafficStats(System.nanoTime(), System.currentTimeMillis());
  private volatile View view = new View(0, List.of(), List.of(), List.of(), List.of(), Map.of(),
      TrafficStats.Snapshot.EMPTY);

  public LiveState(ConnectionTelemetry telemetry, ProcessDirectory directory, InodeOwners owners,
      Supplier<Collection<Long>> candidatePids, long stallThresholdNanos) {
    this(telemetry, directory, new SocketOwners(owners, candidatePids, directory), stallThresholdNanos);
  }

  /** @param owners who holds the sockets the kernel reports by inode (listeners) */
  public LiveState(ConnectionTelemetry telemetry, ProcessDirectory directory, SocketOwners owners,
      long stallThresholdNanos) {
    this.telemetry = telemetry;
    this.directory = directory;
    this.owners = owners;
    this.stallThresholdNanos = stallThresholdNanos;
  }

  /** Connects the host-level counters (created after this, since its gauges read this). */
  public void setHostTelemetry(HostTelemetry host) {
    this.host = host;
  }

  public View view() {
    return view;
  }

  /** The event an open connection opened with (its identity), or null when it is not open. */
  public ConnectionEvent openEvent(long cookie) {
    OpenConn o = open.get(cookie);
    return o == null ? null : o.event();
  }

  /** Whether a connection is open (its open record seen, its close not yet). */
  public boolean isOpen(long cookie) {
    return open.containsKey(cookie);
  }

  public void opened(long cookie, ConnectionEvent e) {
    OpenConn before = open.get(cookie);
    if (before != null) {
      // a second open for one socket (adoption raced with sock_ops): keep what was reported
      open.put(cookie, new OpenConn(e, cookie, before.receivedReported(), before.sentReported(),
          before.retransReported(), before.srttMicros(), 0, 0, -1, 0));
      return;
    }
    open.put(cookie, new OpenConn(e, cookie, 0, 0, 0, e.srttMicros(), 0, 0, -1, 0));
    telemetry.opened(e);
    stats.opened(e, System.nanoTime());
    if (e.side() == ConnectionEvent.Side.SERVER && e.pid() > 0) {
      acceptedByPortAndPid.computeIfAbsent(e.localPort(), p -> new HashMap<>()).merge(e.pid(), 1L, Long::sum);
    }
  }

  /**
   * An open connection found internal after its open (its other end, a watched process's, was
   * found later; see InternalTraffic): counted as internal from now on. What its metric series
   * counted while it was client traffic stays there (counters do not go back); its active
   * count moves.
   */
  public void turnedInternal(long cookie) {
    OpenConn o = open.get(cookie);
    if (o == null || o.event().internal()) {
      return;
    }
    ConnectionEvent e = o.event().withInternal(true);
    telemetry.reclassified(o.event(), e);
    open.put(cookie, new OpenConn(e, cookie, o.receivedReported(), o.sentReported(), o.retransReported(),
        o.srttMicros(), o.rcvQueue(), o.sndQueue(), o.copiedSeq(), o.stuckSinceNanos()));
  }

  /** Returns the event with the identity that opened it when the close record lacks one. */
  public ConnectionEvent closed(long cookie, ConnectionEvent e) {
    OpenConn o = open.remove(cookie);
    if (o == null) {
      telemetry.opened(e); // its open record was lost: keep opened/active consistent
      telemetry.closed(e);
      stats.closed(e, false, e.bytesReceived(), e.bytesSent(), e.retransmits(), System.nanoTime());
      return e;
    }
    ConnectionEvent full = e.pid() == 0 && o.event().pid() > 0 ? e.withOwnerOf(o.event()) : e;
    long rx = Math.max(0, full.bytesReceived() - o.receivedReported());
    long tx = Math.max(0, full.bytesSent() - o.sentReported());
    long re = Math.max(0, full.retransmits() - o.retransReported());
    telemetry.closed(full, rx, tx, re);
    // the stats are keyed by the identity the connection opened with, like its live reads
    stats.closed(full.pid() == o.event().pid() ? full : full.withOwnerOf(o.event()), true, rx, tx, re,
        System.nanoTime());
    return full;
  }

  /** Applies one iterator pass: live deltas, stalls, listeners; then publishes a new view. */
  public void live(LiveSnapshot s, Map<DropReason, Long> drops, long decodeErrors) {
    long now = System.nanoTime();
    for (LiveConn c : s.connections()) {
      OpenConn o = open.get(c.cookie());
      if (o == null) {
        continue; // its open record is still pending (not yet attributed): reported later
      }
      long dRx = Math.max(0, c.bytesReceived() - o.receivedReported());
      long dTx = Math.max(0, c.bytesAcked() - o.sentReported());
      long dRe = Math.max(0, c.totalRetrans() - o.retransReported());
      telemetry.transferred(o.event(), dRx, dTx);
      telemetry.retransmitted(o.event(), dRe);
      telemetry.rttSample(o.event(), c.srttMicros());
      stats.live(o.event(), dRx, dTx, dRe, c.srttMicros(), now);
      long stuckSince;
      if (c.rcvQueue() == 0) {
        stuckSince = 0;
      } else if (c.copiedSeq() != o.copiedSeq() || o.stuckSinceNanos() == 0) {
        stuckSince = s.monoNanos(); // unread bytes, but the reader moved (or first seen): restart
      } else {
        stuckSince = o.stuckSinceNanos();
      }
      open.put(c.cookie(), new OpenConn(o.event(), c.cookie(), o.receivedReported() + dRx, o.sentReported() + dTx,
          o.retransReported() + dRe, c.srttMicros(), c.rcvQueue(), c.sndQueue(), c.copiedSeq(), stuckSince));
    }
    updateListeners(s.listeners());
    reportDrops(drops, decodeErrors);
    telemetry.expireSeries(now);
    forgetExitedWorkers();
    long queued = 0;
    long limit = 0;
    for (Listener l : listeners) {
      queued += l.state().acceptQueue();
      limit += l.state().acceptLimit();
    }
    stats.tick(now, System.currentTimeMillis(), queued, limit);
    publish(s.monoNanos());
  }

  /** Above this many cached socket owners the cache starts over (a miss costs one /proc scan). */
  private static final int MAX_CACHED_INODES = 16_384;

  /**
   * Keeps the per-pid state bounded across reloads: a worker that exited with nothing open
   * leaves the share counts (its accepted connections stay in the listener's total) and the
   * stall set (its stall ends with it); the socket-owner cache starts over when it is large.
   */
  private void forgetExitedWorkers() {
    owners.trim();
    Map<Long, WorkerIdentity> known = directory.live();
    Set<Long> openPids = new HashSet<>();
    for (OpenConn o : open.values()) {
      openPids.add(o.event().pid());
    }
    for (Map.Entry<Integer, Map<Long, Long>> port : acceptedByPortAndPid.entrySet()) {
      long gone = 0;
      for (var it = port.getValue().entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        long pid = e.getKey();
        if (pid != GONE && !known.containsKey(pid) && !openPids.contains(pid) && !owners.running(pid)) {
          gone += e.getValue();
          it.remove();
        }
      }
      if (gone > 0) {
        port.getValue().merge(GONE, gone, Long::sum);
      }
    }
    stalledPids.removeIf(pid -> !known.containsKey(pid) && !openPids.contains(pid) && !owners.running(pid));
  }

  /** The accepted-connection count of workers that exited, per port (not a pid: pids are positive). */
  private static final long GONE = -1;

  /** Kernel records the poll thread handled in one slice (self-telemetry). */
  public void eventsHandled(int n) {
    stats.events(n);
  }

  /** How late a live read started behind its schedule (self-telemetry). */
  public void pollLag(long lagNanos) {
    stats.pollLag(lagNanos, System.nanoTime());
  }

  private void updateListeners(List<ListenerState> states) {
    owners.prefetch(states.stream().map(ListenerState::sockInode).toList());
    List<Listener> out = new ArrayList<>();
    Set<Long> present = new HashSet<>();
    for (ListenerState l : states) {
      present.add(l.sockInode());
      Set<Long> holders = owners.holders(l.sockInode());
      long pid = chooseOwner(holders);
      out.add(new Listener(l, pid, pid > 0 ? directory.lookup(pid) : null, holders));
      Long seen = listenerDropsSeen.put(l.sockInode(), l.drops());
      if (host != null && seen != null && l.drops() > seen) {
        host.listenOverflows(l.port(), l.drops() - seen);
      }
    }
    listenerDropsSeen.keySet().retainAll(present);
    listeners = List.copyOf(out);
  }

  /** A shared listener is held by master and workers: report it under the master. */
  private long chooseOwner(Set<Long> holders) {
    for (long pid : holders) {
      WorkerIdentity w = directory.lookup(pid);
      if (w != null && w.role().equals("master")) {
        return pid;
      }
    }
    return holders.isEmpty() ? 0 : new TreeSet<>(holders).first();
  }

  private long skippedSeen = -1;

  /** The probe's skipped program runs so far (ConnectionProbe.skippedRuns): the counter gets the growth. */
  public void skippedRuns(long total) {
    if (host != null && total > skippedSeen) {
      host.skippedRuns(total - Math.max(0, skippedSeen)); // the first report creates the series
    }
    skippedSeen = Math.max(skippedSeen, total);
  }

  private void reportDrops(Map<DropReason, Long> drops, long decodeErrors) {
    Map<String, Long> now = new HashMap<>();
    drops.forEach((r, n) -> now.put(r.label(), n));
    now.put("decode_error", decodeErrors);
    now.forEach((reason, total) -> {
      long before = droppedSeen.getOrDefault(reason, 0L);
      if (host != null && (total > before || !droppedSeen.containsKey(reason))) {
        host.dropped(reason, total - before); // the first report creates each reason's series, at 0
      }
      droppedSeen.put(reason, total);
    });
  }

  /** Publishes after a batch of records, at most every 250 ms (a rebuild walks every open connection). */
  public void publishIfStale(long monoNanos) {
    if (monoNanos - view.monoNanos() >= 250_000_000L) {
      publish(monoNanos);
    }
  }

  /** Rebuilds the readers' snapshot: per-worker stall state and shares. */
  public void publish(long monoNanos) {
    Map<Long, long[]> perPid = new HashMap<>(); // pid -> {queued bytes, stalled 0/1}
    Map<Integer, Map<Long, Long>> activeByPortAndPid = new HashMap<>();
    for (OpenConn o : open.values()) {
      long pid = o.event().pid();
      if (pid <= 0) {
        continue;
      }
      long[] agg = perPid.computeIfAbsent(pid, p -> new long[2]);
      agg[0] += o.rcvQueue();
      if (o.stuckSinceNanos() != 0 && monoNanos - o.stuckSinceNanos() >= stallThresholdNanos) {
        agg[1] = 1;
      }
      if (o.event().side() == ConnectionEvent.Side.SERVER) {
        activeByPortAndPid.computeIfAbsent(o.event().localPort(), p -> new HashMap<>()).merge(pid, 1L, Long::sum);
      }
    }
    List<HostTelemetry.WorkerGauge> workers = new ArrayList<>();
    Map<Long, WorkerIdentity> known = directory.live();
    Set<Long> pids = new TreeSet<>(known.keySet());
    pids.addAll(perPid.keySet());
    for (long pid : pids) {
      WorkerIdentity w = directory.lookup(pid);
      if (w != null && w.role().equals("master")) {
        continue; // masters never read client sockets
      }
      long[] agg = perPid.getOrDefault(pid, new long[2]);
      boolean stalled = agg[1] == 1;
      workers.add(new HostTelemetry.WorkerGauge(pid, w, stalled, agg[0]));
      logStallChange(pid, w, stalled, agg[0]);
    }
    List<HostTelemetry.ShareGauge> shares = new ArrayList<>();
    Set<Integer> ports = new TreeSet<>(acceptedByPortAndPid.keySet());
    ports.addAll(activeByPortAndPid.keySet());
    for (int port : ports) {
      Map<Long, Long> accepted = acceptedByPortAndPid.getOrDefault(port, Map.of());
      Map<Long, Long> active = activeByPortAndPid.getOrDefault(port, Map.of());
      long acceptedTotal = accepted.values().stream().mapToLong(Long::longValue).sum();
      long activeTotal = active.values().stream().mapToLong(Long::longValue).sum();
      Set<Long> sharePids = new TreeSet<>(accepted.keySet());
      sharePids.addAll(active.keySet());
      for (long pid : sharePids) {
        if (pid == GONE || !known.containsKey(pid) && !active.containsKey(pid)) {
          continue; // a worker that is gone and holds nothing: its share is history
        }
        shares.add(new HostTelemetry.ShareGauge(port, pid, directory.lookup(pid),
            acceptedTotal == 0 ? 0 : (double) accepted.getOrDefault(pid, 0L) / acceptedTotal,
            activeTotal == 0 ? 0 : (double) active.getOrDefault(pid, 0L) / activeTotal));
      }
    }
    view = new View(monoNanos, List.copyOf(open.values()), listeners, List.copyOf(workers), List.copyOf(shares),
        Map.copyOf(droppedSeen), stats.snapshot(System.nanoTime()));
  }

  private void logStallChange(long pid, WorkerIdentity w, boolean stalled, long queued) {
    String who = w == null ? "process " + pid : "worker " + pid + " (" + w.workerName() + ")";
    if (stalled && stalledPids.add(pid)) {
      LOG.log(System.Logger.Level.WARNING, "{0} stalled: {1} received bytes unread for more than {2} ms",
          who, queued, stallThresholdNanos / 1_000_000);
    } else if (!stalled && stalledPids.remove(pid)) {
      LOG.log(System.Logger.Level.INFO, "{0} recovered: reading again", who);
    }
  }

  @Override
  public List<HostTelemetry.ListenerGauge> listeners() {
    return view.listeners().stream()
        .map(l -> new HostTelemetry.ListenerGauge(l.state().port(), l.pid(), l.worker(), l.state().acceptQueue(),
            l.state().acceptLimit()))
        .toList();
  }

  @Override
  public List<HostTelemetry.WorkerGauge> workers() {
    return view.workers();
  }

  @Override
  public List<HostTelemetry.ShareGauge> shares() {
    return view.shares();
  }
}
