package dev.wmscope.agent.requests;

import dev.wmscope.agent.probe.RttHistogram;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HttpExchange;
import dev.wmscope.otel.WebSocketOpcode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per-worker request figures for the API, {@code wmscope status} and the page: requests, 5xx
 * and WebSocket messages per second and latency percentiles over the last minute (six 10 s
 * slots), and the most recent slow or failed requests ({@code wmscope requests}).
 *
 * <p>Threading: the listener methods run on the poll thread, {@link #snapshot()} on any; all
 * are synchronized (a handful of counters per event, readers a few times a second).
 */
public final class RequestStats implements RequestListener {
  /** Requests at least this long are listed as slow. */
  public static final long SLOW_NANOS = 1_000_000_000L;
  static final int RECENT = 100;
  private static final long SLOT_NANOS = 10_000_000_000L;
  private static final int SLOTS = 6;
  private static final int MAX_WORKERS = 4096;

  /** One worker's figures. */
  public record Worker(long pid, String workerName, long requests, long errors5xx, long messages,
      double requestsPerSec, double errors5xxPerSec, double messagesPerSec, double p50Millis, double p99Millis) {}

  /** A slow or failed request, as listed by {@code wmscope requests}. */
  public record Recent(long startEpochNanos, String method, String path, int status, double durationMillis,
      String errorType, long pid, String workerName, String client) {}

  public record Snapshot(Map<Long, Worker> workers, List<Recent> recent) {
    public static final Snapshot EMPTY = new Snapshot(Map.of(), List.of());
  }

  private static final class Slot {
    long start = Long.MIN_VALUE;
    long requests;
    long errors;
    long messages;
    final RttHistogram latency = new RttHistogram();

    void reset(long at) {
      start = at;
      requests = 0;
      errors = 0;
      messages = 0;
      latency.clear();
    }
  }

  private static final class PerWorker {
    final long pid;
    String name;
    long requests;
    long errors;
    long messages;
    final Slot[] slots = new Slot[SLOTS];
    long first;

    PerWorker(long pid, long now) {
      this.pid = pid;
      this.first = now;
      for (int i = 0; i < SLOTS; i++) {
        slots[i] = new Slot();
      }
    }

    Slot slot(long now) {
      long start = now - Math.floorMod(now, SLOT_NANOS);
      Slot s = slots[(int) Math.floorMod(start / SLOT_NANOS, (long) SLOTS)];
      if (s.start != start) {
        s.reset(start);
      }
      return s;
    }
  }

  private final LongSupplier clock;
  private final Map<Long, PerWorker> workers = new HashMap<>();
  private final ArrayDeque<Recent> recent = new ArrayDeque<>();

  public RequestStats() {
    this(System::nanoTime);
  }

  RequestStats(LongSupplier clock) {
    this.clock = clock;
  }

  private PerWorker worker(ConnectionEvent c, long now) {
    PerWorker w = workers.get(c.pid());
    if (w == null) {
      if (workers.size() >= MAX_WORKERS) {
        workers.clear(); // a flood of pids (reload storms): start over rather than grow
      }
      w = new PerWorker(c.pid(), now);
      workers.put(c.pid(), w);
    }
    if (c.worker() != null) {
      w.name = c.worker().workerName();
    }
    return w;
  }

  @Override
  public synchronized void exchange(HttpExchange x) {
    long now = clock.getAsLong();
    PerWorker w = worker(x.connection(), now);
    Slot s = w.slot(now);
    w.requests++;
    s.requests++;
    s.latency.add(Math.max(1, x.durationNanos() / 1000));
    if (x.status() >= 500) {
      w.errors++;
      s.errors++;
    }
    if (x.durationNanos() >= SLOW_NANOS || x.status() >= 500 || x.errorType() != null) {
      if (recent.size() >= RECENT) {
        recent.pollFirst();
      }
      ConnectionEvent c = x.connection();
      recent.addLast(new Recent(x.startEpochNanos(), x.method() == null ? "_OTHER" : x.method(),
          dev.wmscope.otel.RequestTelemetry.pathOf(x.target()), x.status(), x.durationNanos() / 1e6,
          dev.wmscope.otel.RequestTelemetry.errorTypeOf(x), c.pid(), w.name,
          c.peerAddress().indexOf(':') >= 0 ? "[" + c.peerAddress() + "]:" + c.peerPort()
              : c.peerAddress() + ":" + c.peerPort()));
    }
  }

  @Override
  public synchronized void webSocketMessage(ConnectionEvent c, boolean received, WebSocketOpcode op, long bytes) {
    long now = clock.getAsLong();
    PerWorker w = worker(c, now);
    w.messages++;
    w.slot(now).messages++;
  }

  /** Forgets workers that exited (their figures are of no worker any more). */
  public synchronized void retain(java.util.function.LongPredicate alive) {
    workers.keySet().removeIf(pid -> !alive.test(pid));
  }

  public synchronized Snapshot snapshot() {
    long now = clock.getAsLong();
    Map<Long, Worker> out = new HashMap<>();
    for (PerWorker w : workers.values()) {
      long requests = 0;
      long errors = 0;
      long messages = 0;
      RttHistogram latency = new RttHistogram();
      long oldest = now;
      for (Slot s : w.slots) {
        if (s.start != Long.MIN_VALUE && now - s.start < SLOTS * SLOT_NANOS) {
          requests += s.requests;
          errors += s.errors;
          messages += s.messages;
          latency.addAll(s.latency);
          oldest = Math.min(oldest, s.start);
        }
      }
      // the window: from the oldest live slot (or the worker's first event) to now
      double seconds = Math.max(1.0, (now - Math.max(oldest, w.first)) / 1e9);
      out.put(w.pid, new Worker(w.pid, w.name, w.requests, w.errors, w.messages, requests / seconds,
          errors / seconds, messages / seconds, latency.percentile(0.5) / 1000.0, latency.percentile(0.99) / 1000.0));
    }
    return new Snapshot(Map.copyOf(out), List.copyOf(new ArrayList<>(recent)));
  }
}
