package dev.wmscope.otel;

import static dev.wmscope.otel.TelemetryNames.CLOSE_CAUSE;
import static dev.wmscope.otel.TelemetryNames.IO_RECEIVE;
import static dev.wmscope.otel.TelemetryNames.IO_TRANSMIT;
import static dev.wmscope.otel.TelemetryNames.NETWORK_IO_DIRECTION;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;

/**
 * The cumulative connection counters of every metric attribute set, read by observable
 * instruments at each collection.
 *
 * <p>Why not synchronous counters: the SDK keeps every attribute set a cumulative synchronous
 * instrument ever saw for its whole life, and {@code process.pid} is a metric attribute, so every
 * Workerman reload (new worker pids) would add series that never go away. Here the series of a
 * process that has exited, with no connection left open, is dropped after a retention time long
 * enough for every exporter and scraper to read its final values.
 *
 * <p>Threading: recording and {@link #expire} run on the agent's poll thread; the collection
 * callbacks read from the SDK's threads (the adders and the concurrent map make that safe).
 */
final class ConnectionSeries {

  /** The counters of one attribute set (one pid, port, side, family, worker, internal flag). */
  static final class Series {
    final long pid;
    final Attributes common;
    final Attributes receive;
    final Attributes transmit;
    final Attributes[] closedByCause = new Attributes[CloseCause.values().length];
    final LongAdder opened = new LongAdder();
    final LongAdder active = new LongAdder();
    final LongAdder received = new LongAdder();
    final LongAdder sent = new LongAdder();
    final LongAdder retransmits = new LongAdder();
    final LongAdder closedWithoutCause = new LongAdder();
    final LongAdder[] closed = new LongAdder[CloseCause.values().length];
    /** Poll-thread only: when {@link #expire} first saw the process gone and nothing open. */
    long goneSinceNanos = NOT_GONE;

    Series(long pid, Attributes common) {
      this.pid = pid;
      this.common = common;
      this.receive = common.toBuilder().put(NETWORK_IO_DIRECTION, IO_RECEIVE).build();
      this.transmit = common.toBuilder().put(NETWORK_IO_DIRECTION, IO_TRANSMIT).build();
      for (CloseCause c : CloseCause.values()) {
        closedByCause[c.ordinal()] = common.toBuilder().put(CLOSE_CAUSE, c.value()).build();
        closed[c.ordinal()] = new LongAdder();
      }
    }

    void closed(CloseCause cause) {
      (cause == null ? closedWithoutCause : closed[cause.ordinal()]).increment();
    }
  }

  private static final long NOT_GONE = Long.MIN_VALUE;

  private final ConcurrentHashMap<Long, Series> series = new ConcurrentHashMap<>();

  /** The series for a packed label key, created by {@code factory} on first use. */
  Series get(long key, LongFunction<Series> factory) {
    Series s = series.get(key);
    return s != null ? s : series.computeIfAbsent(key, factory::apply);
  }

  int size() {
    return series.size();
  }

  void observeOpened(ObservableLongMeasurement m) {
    series.values().forEach(s -> m.record(s.opened.sum(), s.common));
  }

  void observeActive(ObservableLongMeasurement m) {
    series.values().forEach(s -> m.record(s.active.sum(), s.common));
  }

  /** Only causes that happened, as a synchronous counter would export them. */
  void observeClosed(ObservableLongMeasurement m) {
    for (Series s : series.values()) {
      long none = s.closedWithoutCause.sum();
      if (none > 0) {
        m.record(none, s.common);
      }
      for (int i = 0; i < s.closed.length; i++) {
        long n = s.closed[i].sum();
        if (n > 0) {
          m.record(n, s.closedByCause[i]);
        }
      }
    }
  }

  void observeNetworkIo(ObservableLongMeasurement m) {
    for (Series s : series.values()) {
      long rx = s.received.sum();
      long tx = s.sent.sum();
      if (rx > 0) {
        m.record(rx, s.receive);
      }
      if (tx > 0) {
        m.record(tx, s.transmit);
      }
    }
  }

  /** Every series from its first connection on, at 0 until a retransmit. */
  void observeRetransmits(ObservableLongMeasurement m) {
    series.values().forEach(s -> m.record(s.retransmits.sum(), s.common));
  }

  /**
   * Drops the series of processes that are gone: pid known, nothing open, and {@code alive}
   * false for at least {@code retentionNanos}. Series without a pid are bounded by port and
   * flags and stay. Returns how many were dropped.
   */
  int expire(long nowNanos, long retentionNanos, LongPredicate alive) {
    int dropped = 0;
    for (Iterator<Series> it = series.values().iterator(); it.hasNext(); ) {
      Series s = it.next();
      if (s.pid <= 0 || s.active.sum() != 0 || alive.test(s.pid)) {
        s.goneSinceNanos = NOT_GONE;
        continue;
      }
      if (s.goneSinceNanos == NOT_GONE) {
        s.goneSinceNanos = nowNanos;
      } else if (nowNanos - s.goneSinceNanos >= retentionNanos) {
        it.remove();
        dropped++;
      }
    }
    return dropped;
  }
}
