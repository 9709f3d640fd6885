package dev.wmscope.agent.health;

import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.otel.CloseCause;
import dev.wmscope.otel.ConnectionEvent;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Recent closes by owner, so an exit or a reload can say how the connections of the workers it
 * ended went: closed (a FIN, either side first), reset by this host (the exit closing sockets
 * with unread data, SO_LINGER 0), reset by the peer, or ended otherwise (timeout). Closes older
 * than {@link #KEEP_NANOS} are forgotten, and at most {@link #MAX_CLOSES} are kept.
 *
 * <p>Thread-safe: fed on the probe's poll thread, read on the health tick's.
 */
public final class ConnectionLedger implements ConnectionListener {
  static final long KEEP_NANOS = 120_000_000_000L;
  static final int MAX_CLOSES = 50_000; // about 3 MiB of the agent's heap at most

  /** How the connections of one owner ended: counts. */
  public record Ends(long closed, long resetByUs, long resetByPeer, long other) {
    public static final Ends NONE = new Ends(0, 0, 0, 0);

    public long total() {
      return closed + resetByUs + resetByPeer + other;
    }

    Ends plus(Ends o) {
      return new Ends(closed + o.closed, resetByUs + o.resetByUs, resetByPeer + o.resetByPeer, other + o.other);
    }
  }

  private record Close(long pid, String key, long endEpochNanos, CloseCause cause) {}

  /** What tells one connection from another in the live view and in close records alike. */
  public static String key(ConnectionEvent e) {
    return e.pid() + "|" + e.localPort() + "|" + e.peerAddress() + "|" + e.peerPort() + "|" + e.side();
  }

  private final Deque<Close> closes = new ArrayDeque<>();
  private final Map<Long, Integer> perPid = new HashMap<>();
  /** Kernel time up to which every close is in (the poll thread's last drain); -1 before one. */
  private volatile long deliveredThrough = -1;

  @Override
  public void opened(ConnectionEvent event) {}

  @Override
  public void deliveredThrough(long monoNanos) {
    deliveredThrough = monoNanos;
  }

  /**
   * Whether every close the kernel recorded before {@code monoNanos} (CLOCK_MONOTONIC) is in. A
   * poll thread that lags (a loaded host) is waited for, instead of reporting an exit without
   * the closes its death caused.
   */
  public boolean closesIn(long monoNanos) {
    return deliveredThrough >= monoNanos;
  }

  @Override
  public synchronized void closed(ConnectionEvent event) {
    if (event.pid() <= 0) {
      return;
    }
    closes.addLast(new Close(event.pid(), key(event), event.endEpochNanos(), event.closeCause()));
    perPid.merge(event.pid(), 1, Integer::sum);
    long oldest = event.endEpochNanos() - KEEP_NANOS;
    while (!closes.isEmpty() && (closes.size() > MAX_CLOSES || closes.peekFirst().endEpochNanos() < oldest)) {
      Close c = closes.removeFirst();
      perPid.computeIfPresent(c.pid(), (p, n) -> n > 1 ? n - 1 : null);
    }
  }

  /** How the connections of {@code pid} that closed at or after {@code sinceEpochNanos} ended. */
  public synchronized Ends since(long pid, long sinceEpochNanos) {
    if (!perPid.containsKey(pid)) {
      return Ends.NONE;
    }
    long closed = 0;
    long us = 0;
    long peer = 0;
    long other = 0;
    for (Close c : closes) {
      if (c.pid() != pid || c.endEpochNanos() < sinceEpochNanos) {
        continue;
      }
      if (c.cause() == null) {
        other++;
      } else {
        switch (c.cause()) {
          case FIN_LOCAL, FIN_PEER -> closed++;
          case RST_SENT -> us++;
          case RST_RECEIVED -> peer++;
          default -> other++;
        }
      }
    }
    return new Ends(closed, us, peer, other);
  }

  /** The connections of these owners that closed at or after {@code sinceEpochNanos}, by {@link #key}. */
  public synchronized java.util.Set<String> closedKeys(java.util.Set<Long> pids, long sinceEpochNanos) {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (Close c : closes) {
      if (pids.contains(c.pid()) && c.endEpochNanos() >= sinceEpochNanos) {
        out.add(c.key());
      }
    }
    return out;
  }

  /** The sum of {@link #since} over several owners. */
  public Ends since(Iterable<Long> pids, long sinceEpochNanos) {
    Ends sum = Ends.NONE;
    for (long p : pids) {
      sum = sum.plus(since(p, sinceEpochNanos));
    }
    return sum;
  }
}
