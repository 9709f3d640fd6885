package dev.wmscope.agent.probe;

import dev.wmscope.otel.CloseCause;
import dev.wmscope.otel.ConnectionEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cheap rolling aggregates for the live views ({@code wmscope status}, the HTTP API, the page):
 * per owner process and per peer address, cumulative counters since the agent started plus
 * rates and RTT percentiles over a sliding window, and a host-wide history of one point per
 * second for the last minutes.
 *
 * <p>How: every counter is cumulative; once a second each aggregate records a mark of its
 * counters in a ring of {@value #SLOTS} slots, and a rate is (now - the mark nearest the window
 * start) / elapsed. RTT samples (each open connection's srtt per live read, and each close) go
 * into a {@link RttHistogram} per second slot; a percentile merges the slots inside the window.
 * Memory is bounded: at most {@value #MAX_PEERS} peers and {@value #MAX_OWNERS} owners (the
 * least recently active idle ones are evicted first) and {@value #HISTORY_POINTS} history points.
 *
 * <p>Not thread-safe: fed and snapshotted on the poll thread. {@link #snapshot} returns
 * immutable values for readers on other threads.
 */
public final class TrafficStats {
  /** Seconds of history in the ring of per-second marks (window + 1). */
  static final int SLOTS = 11;
  /** Width of the rate and percentile window. */
  public static final long WINDOW_NANOS = 10_000_000_000L;
  static final int MAX_PEERS = 4096;
  static final int MAX_OWNERS = 2048;
  /** One point a second for ten minutes. */
  static final int HISTORY_POINTS = 600;
  static final long HISTORY_SPACING_NANOS = 950_000_000L;
  /** Peers in a snapshot's top list. */
  static final int TOP_PEERS = 100;

  /** One owner's (process's) traffic. Rates are per second over the window. */
  public record OwnerStats(long pid, String processName, long active, long opened, long closed, long bytesIn,
      long bytesOut, long retransmits, long resets, double openedPerSec, double closedPerSec, double bytesInPerSec,
      double bytesOutPerSec, long rttP50Micros, long rttP99Micros) {}

  /** One peer address's traffic with this host's watched processes. */
  public record PeerStats(String address, long active, long opened, long bytesIn, long bytesOut,
      double bytesInPerSec, double bytesOutPerSec, long rttP50Micros, long rttP99Micros) {}

  /** One second (or poll) of the host-wide history for charts. */
  public record HistoryPoint(long epochMillis, long active, double openedPerSec, double closedPerSec,
      double bytesInPerSec, double bytesOutPerSec, long rttP50Micros, long rttP99Micros, long acceptQueue,
      long acceptQueueLimit, double eventsPerSec, double pollLagMillis) {}

  /** The agent's own work: kernel records handled and how late live reads run. */
  public record AgentStats(long startedEpochMillis, long events, double eventsPerSec, double pollLagMillis,
      double pollLagMaxMillis, int peersTracked, long peersEvicted) {}

  /**
   * Everything readers need, immutable.
   *
   * @param windowSeconds the span rates and percentiles cover now (shorter right after start)
   * @param owners        by pid (0: connections no process was found for)
   * @param total         the whole host
   * @param topPeers      peers by bytes (in + out) since start, at most {@value #TOP_PEERS}
   */
  public record Snapshot(double windowSeconds, Map<Long, OwnerStats> owners, OwnerStats total,
      List<PeerStats> topPeers, List<HistoryPoint> history, AgentStats agent) {
    public static final Snapshot EMPTY = new Snapshot(0, Map.of(),
        new OwnerStats(-1, "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), List.of(), List.of(),
        new AgentStats(0, 0, 0, 0, 0, 0, 0));
  }

  /** Cumulative counters with per-second marks and RTT slots. */
  static final class Rolling {
    long active;
    long opened;
    long closed;
    long bytesIn;
    long bytesOut;
    long retransmits;
    long resets;
    long lastActivityNanos;
    final long createdNanos;
    String processName = "";
    private final long[] markNanos = new long[SLOTS];
    private final long[][] marks = new long[SLOTS][];
    private RttHistogram[] rtt;
    private long[] rttSecond;

    Rolling(long nowNanos) {
      createdNanos = nowNanos;
      lastActivityNanos = nowNanos;
    }

    void mark(long second, long nowNanos) {
      int i = (int) Math.floorMod(second, SLOTS);
      markNanos[i] = nowNanos;
      marks[i] = new long[] {opened, closed, bytesIn, bytesOut};
    }

    void rtt(long micros, long second) {
      if (micros <= 0) {
        return;
      }
      if (rtt == null) {
        rtt = new RttHistogram[SLOTS];
        rttSecond = new long[SLOTS];
        java.util.Arrays.fill(rttSecond, Long.MIN_VALUE);
      }
      int i = (int) Math.floorMod(second, SLOTS);
      if (rttSecond[i] != second) {
        if (rtt[i] == null) {
          rtt[i] = new RttHistogram();
        } else {
          rtt[i].clear();
        }
        rttSecond[i] = second;
      }
      rtt[i].add(micros);
    }

    RttHistogram window(long nowSecond) {
      RttHistogram h = new RttHistogram();
      if (rtt != null) {
        for (int i = 0; i < SLOTS; i++) {
          if (rtt[i] != null && rttSecond[i] > nowSecond - SLOTS && rttSecond[i] <= nowSecond) {
            h.addAll(rtt[i]);
          }
        }
      }
      return h;
    }

    /** {opened, closed, bytesIn, bytesOut} per second over the window. */
    double[] rates(long nowNanos, long windowStartNanos) {
      long[] base = {0, 0, 0, 0};
      long baseNanos = windowStartNanos;
      if (createdNanos < windowStartNanos) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < SLOTS; i++) {
          if (marks[i] != null && markNanos[i] >= windowStartNanos && markNanos[i] < best) {
            best = markNanos[i];
            base = marks[i];
          }
        }
        baseNanos = best == Long.MAX_VALUE ? createdNanos : best;
        if (best == Long.MAX_VALUE) {
          base = new long[] {0, 0, 0, 0};
        }
      }
      double dt = (nowNanos - baseNanos) / 1e9;
      if (dt < 0.1) {
        return new double[4];
      }
      return new double[] {(opened - base[0]) / dt, (closed - base[1]) / dt, (bytesIn - base[2]) / dt,
          (bytesOut - base[3]) / dt};
    }
  }

  private final long startNanos;
  private final long startEpochMillis;
  private final Map<Long, Rolling> owners = new HashMap<>();
  private final Map<String, Rolling> peers = new HashMap<>();
  private final Rolling total;
  private final RttHistogram sincePoint = new RttHistogram();
  private final ArrayDeque<HistoryPoint> history = new ArrayDeque<>();
  private long lastMarkSecond = Long.MIN_VALUE;
  private long peersEvicted;
  // history bookkeeping: the cumulative values at the last point
  private long pointNanos;
  private long[] pointTotals = {0, 0, 0, 0, 0};
  // self-telemetry
  private long events;
  private double pollLagMillis;
  private final ArrayDeque<double[]> lags = new ArrayDeque<>(); // {nanos, lag ms}
  private final Rolling eventsRolling;

  public TrafficStats(long nowNanos, long nowEpochMillis) {
    startNanos = nowNanos;
    startEpochMillis = nowEpochMillis;
    total = new Rolling(nowNanos);
    eventsRolling = new Rolling(nowNanos);
    pointNanos = nowNanos;
  }

  private static long second(long nanos) {
    return Math.floorDiv(nanos, 1_000_000_000L);
  }

  private Rolling owner(long pid, long nowNanos) {
    Rolling r = owners.get(pid);
    if (r == null) {
      if (owners.size() >= MAX_OWNERS) {
        evictIdle(owners, MAX_OWNERS / 10);
      }
      r = new Rolling(nowNanos);
      owners.put(pid, r);
    }
    r.lastActivityNanos = nowNanos;
    return r;
  }

  private Rolling peer(String address, long nowNanos) {
    Rolling r = peers.get(address);
    if (r == null) {
      if (peers.size() >= MAX_PEERS) {
        peersEvicted += evictIdle(peers, MAX_PEERS / 10);
      }
      r = new Rolling(nowNanos);
      peers.put(address, r);
    }
    r.lastActivityNanos = nowNanos;
    return r;
  }

  /**
   * Removes {@code n} aggregates, least recently active first: those without open connections
   * before any other, so the map stays bounded even if every entry looks active.
   */
  private static <K> int evictIdle(Map<K, Rolling> map, int n) {
    List<Map.Entry<K, Rolling>> all = new ArrayList<>(map.entrySet());
    all.sort(Comparator.comparing((Map.Entry<K, Rolling> e) -> e.getValue().active > 0)
        .thenComparingLong(e -> e.getValue().lastActivityNanos));
    int removed = 0;
    for (int i = 0; i < all.size() && removed < n; i++, removed++) {
      map.remove(all.get(i).getKey());
    }
    return removed;
  }

  /** A connection is open (or was adopted, which counts as active but not as opened). */
  public void opened(ConnectionEvent e, long nowNanos) {
    Rolling o = owner(e.pid(), nowNanos);
    Rolling p = peer(e.peerAddress(), nowNanos);
    if (e.processName() != null && !e.processName().isEmpty()) {
      o.processName = e.processName();
    }
    for (Rolling r : new Rolling[] {o, p, total}) {
      r.active++;
      if (!e.preexisting()) {
        r.opened++;
      }
    }
  }

  /**
   * A connection closed. {@code wasOpen}: its open was counted (else it counts as opened now).
   * The byte and retransmit arguments are what no live read reported yet.
   */
  public void closed(ConnectionEvent e, boolean wasOpen, long bytesIn, long bytesOut, long retransmits, long nowNanos) {
    Rolling o = owner(e.pid(), nowNanos);
    Rolling p = peer(e.peerAddress(), nowNanos);
    boolean reset = e.closeCause() == CloseCause.RST_SENT || e.closeCause() == CloseCause.RST_RECEIVED;
    long sec = second(nowNanos);
    for (Rolling r : new Rolling[] {o, p, total}) {
      if (wasOpen) {
        r.active = Math.max(0, r.active - 1);
      } else if (!e.preexisting()) {
        r.opened++;
      }
      r.closed++;
      r.bytesIn += bytesIn;
      r.bytesOut += bytesOut;
      r.retransmits += retransmits;
      if (reset) {
        r.resets++;
      }
      r.rtt(e.srttMicros(), sec);
    }
    if (e.srttMicros() > 0) {
      sincePoint.add(e.srttMicros());
    }
  }

  /** What one live read saw of an open connection: new bytes and retransmits, and its srtt. */
  public void live(ConnectionEvent opened, long bytesIn, long bytesOut, long retransmits, long srttMicros, long nowNanos) {
    long sec = second(nowNanos);
    Rolling o = owners.get(opened.pid());
    Rolling p = peers.get(opened.peerAddress());
    for (Rolling r : new Rolling[] {o, p, total}) {
      if (r == null) {
        continue; // evicted while open cannot happen (active > 0), but stay safe
      }
      if (bytesIn > 0 || bytesOut > 0 || retransmits > 0) {
        r.lastActivityNanos = nowNanos;
      }
      r.bytesIn += bytesIn;
      r.bytesOut += bytesOut;
      r.retransmits += retransmits;
      r.rtt(srttMicros, sec);
    }
    if (srttMicros > 0) {
      sincePoint.add(srttMicros);
    }
  }

  /** Kernel records handled in one poll slice. */
  public void events(int n) {
    events += n;
    eventsRolling.opened += n;
  }

  /** How late a live read started behind its schedule. */
  public void pollLag(long lagNanos, long nowNanos) {
    pollLagMillis = Math.max(0, lagNanos) / 1e6;
    lags.addLast(new double[] {nowNanos, pollLagMillis});
    while (!lags.isEmpty() && nowNanos - (long) lags.peekFirst()[0] > WINDOW_NANOS) {
      lags.removeFirst();
    }
  }

  /**
   * Records the per-second marks (once a second) and a history point (at most one per
   * {@value #HISTORY_SPACING_NANOS} ns): call after each live read.
   *
   * @param acceptQueue      connections waiting in all watched listeners' accept queues now
   * @param acceptQueueLimit the sum of those listeners' backlogs
   */
  public void tick(long nowNanos, long nowEpochMillis, long acceptQueue, long acceptQueueLimit) {
    long sec = second(nowNanos);
    if (sec != lastMarkSecond) {
      lastMarkSecond = sec;
      owners.values().forEach(r -> r.mark(sec, nowNanos));
      peers.values().forEach(r -> r.mark(sec, nowNanos));
      total.mark(sec, nowNanos);
      eventsRolling.mark(sec, nowNanos);
    }
    long dtNanos = nowNanos - pointNanos;
    if (dtNanos < HISTORY_SPACING_NANOS && !history.isEmpty()) {
      return;
    }
    double dt = Math.max(dtNanos, 1) / 1e9;
    long[] now = {total.opened, total.closed, total.bytesIn, total.bytesOut, events};
    history.addLast(new HistoryPoint(nowEpochMillis, total.active, (now[0] - pointTotals[0]) / dt,
        (now[1] - pointTotals[1]) / dt, (now[2] - pointTotals[2]) / dt, (now[3] - pointTotals[3]) / dt,
        sincePoint.percentile(0.5), sincePoint.percentile(0.99), acceptQueue, acceptQueueLimit,
        (now[4] - pointTotals[4]) / dt, pollLagMillis));
    while (history.size() > HISTORY_POINTS) {
      history.removeFirst();
    }
    pointTotals = now;
    pointNanos = nowNanos;
    sincePoint.clear();
  }

  /** Immutable values for readers; {@code activeByOwner} and friends come from the open set. */
  public Snapshot snapshot(long nowNanos) {
    long windowStart = Math.max(startNanos, nowNanos - WINDOW_NANOS);
    long sec = second(nowNanos);
    Map<Long, OwnerStats> out = new HashMap<>();
    owners.forEach((pid, r) -> out.put(pid, stats(pid, r, nowNanos, windowStart, sec)));
    List<PeerStats> top = new ArrayList<>(Math.min(peers.size(), TOP_PEERS));
    peers.entrySet().stream()
        .sorted(Comparator.comparingLong((Map.Entry<String, Rolling> e) -> e.getValue().bytesIn + e.getValue().bytesOut)
            .reversed().thenComparing(Map.Entry::getKey))
        .limit(TOP_PEERS)
        .forEach(e -> {
          Rolling r = e.getValue();
          double[] rates = r.rates(nowNanos, windowStart);
          RttHistogram h = r.window(sec);
          top.add(new PeerStats(e.getKey(), r.active, r.opened, r.bytesIn, r.bytesOut, rates[2], rates[3],
              h.percentile(0.5), h.percentile(0.99)));
        });
    double lagMax = lags.stream().mapToDouble(l -> l[1]).max().orElse(0);
    AgentStats agent = new AgentStats(startEpochMillis, events, eventsRolling.rates(nowNanos, windowStart)[0],
        pollLagMillis, lagMax, peers.size(), peersEvicted);
    return new Snapshot((nowNanos - windowStart) / 1e9, Map.copyOf(out), stats(-1, total, nowNanos, windowStart, sec),
        List.copyOf(top), List.copyOf(history), agent);
  }

  private static OwnerStats stats(long pid, Rolling r, long nowNanos, long windowStart, long sec) {
    double[] rates = r.rates(nowNanos, windowStart);
    RttHistogram h = r.window(sec);
    return new OwnerStats(pid, r.processName, r.active, r.opened, r.closed, r.bytesIn, r.bytesOut, r.retransmits,
        r.resets, rates[0], rates[1], rates[2], rates[3], h.percentile(0.5), h.percentile(0.99));
  }
}
