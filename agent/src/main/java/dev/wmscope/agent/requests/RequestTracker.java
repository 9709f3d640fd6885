package dev.wmscope.agent.requests;

import dev.wmscope.loader.DataRecord;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HttpExchange;
import dev.wmscope.otel.WebSocketOpcode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;

/**
 * Request telemetry's second event family next to connections: frames the data records of every
 * captured connection ({@link ConnectionStream}) into HTTP exchanges and WebSocket messages and
 * hands them, with the identity of their connection, to a {@link RequestListener}.
 *
 * <p>Records of one connection arrive in order; a connection's open record may come after its
 * first data records (two ring buffers), so what is framed is held until the end of the batch
 * ({@link #endOfBatch}), when every open of the batch is known. A connection's state is dropped
 * at its close (after what is outstanding is ended with the reason) and, for a close record that
 * was lost, at the next sweep ({@link #retain}).
 *
 * <p>Threading: the poll thread only; {@link #counters()} may be read from any thread.
 */
public final class RequestTracker {
  /** Request targets longer than this are cut (the path keeps its start, never emptied). */
  public static final int MAX_TARGET = 2048;

  private final MonotonicClock clock;
  private final RequestListener listener;
  private final Map<Long, Conn> conns = new HashMap<>();
  /** Framed in this batch; {@link #handing} is the list of the previous one, emptied, swapped in. */
  private List<Framed> framed = new ArrayList<>();
  private List<Framed> handing = new ArrayList<>();
  private final Counters counters = new Counters();
  /** The connection of the last record (null after its state was dropped). */
  private Conn last;

  /** Framed but not yet handed on: an exchange or a WebSocket message of a connection. */
  private record Framed(Kind kind, Conn conn, ConnectionStream.Request request, boolean received,
      WebSocketOpcode op, long size, int waited) {
    Framed waitedOnce() {
      return new Framed(kind, conn, request, received, op, size, waited + 1);
    }
  }

  /**
   * Drains an event of a connection whose open record has not been delivered yet may wait for:
   * the two rings are read one after the other, so a connection accepted during a drain can
   * show its first data before its open record.
   */
  static final int IDENTITY_WAIT_BATCHES = 3;

  private enum Kind { STARTED, EXCHANGE, ABANDONED, MESSAGE }

  private final class Conn implements ConnectionStream.Sink {
    final long cookie;
    final ConnectionStream stream = new ConnectionStream(this, MAX_TARGET);
    ConnectionEvent closedAs;
    long closeMono;
    long closeDue; // the batch at whose end the close is applied (0: open)
    long lastBatch;

    Conn(long cookie) {
      this.cookie = cookie;
    }

    @Override
    public void started(ConnectionStream.Request r) {
      framed.add(new Framed(Kind.STARTED, this, r, false, null, 0, 0));
    }

    @Override
    public void exchange(ConnectionStream.Request r) {
      framed.add(new Framed(Kind.EXCHANGE, this, r, false, null, 0, 0));
    }

    @Override
    public void abandoned(ConnectionStream.Request r) {
      framed.add(new Framed(Kind.ABANDONED, this, r, false, null, 0, 0));
    }

    @Override
    public void message(boolean received, WebSocketOpcode op, long payloadBytes, long monoNanos) {
      framed.add(new Framed(Kind.MESSAGE, this, null, received, op, payloadBytes, 0));
    }
  }

  /** What was framed and what could not be, since start (monotonic; any thread may read). */
  public static final class Counters {
    private volatile long exchanges;
    private volatile long messages;
    private volatile long desyncs;
    private volatile long unmatchedRequests;
    private volatile long unmatchedResponses;
    private volatile long unknownConnection;
    private volatile long tlsConnections;

    public long exchanges() {
      return exchanges;
    }

    public long messages() {
      return messages;
    }

    /** Times a direction of a connection lost the message framing (resynced later). */
    public long desyncs() {
      return desyncs;
    }

    /** Requests read whose response could not be told for certain: not reported. */
    public long unmatchedRequests() {
      return unmatchedRequests;
    }

    /** Responses sent that could not be paired with a request for certain: not reported. */
    public long unmatchedResponses() {
      return unmatchedResponses;
    }

    /** Exchanges of a connection whose identity was never known (its open record lost). */
    public long unknownConnection() {
      return unknownConnection;
    }

    /** Captured connections that turned out to be TLS: bytes and time only. */
    public long tlsConnections() {
      return tlsConnections;
    }
  }

  public RequestTracker(MonotonicClock clock, RequestListener listener) {
    this.clock = clock;
    this.listener = listener;
  }

  public Counters counters() {
    return counters;
  }

  /** Connections with framing state now. */
  public int connections() {
    return conns.size();
  }

  /** One read or send of a captured connection. */
  public void data(DataRecord r) {
    Conn c = last;
    if (c == null || c.cookie != r.cookie()) {
      // a worker's read and its answer's send are usually neighbours in the ring: one lookup for both
      c = conns.computeIfAbsent(r.cookie(), Conn::new);
      last = c;
    }
    c.lastBatch = batch;
    c.stream.feed(r);
  }

  /**
   * The connection closed: at the end of the next batch (its last data records may come in the
   * other ring buffer's next drain), requests still outstanding end at the close time
   * ({@link HttpExchange#CONNECTION_CLOSED}, {@link HttpExchange#RESPONSE_TRUNCATED}) and its
   * state is dropped.
   *
   * @param event     the closed connection as reported (its identity, for what is outstanding)
   * @param closeMono when it closed (CLOCK_MONOTONIC)
   */
  public void closed(long cookie, ConnectionEvent event, long closeMono) {
    Conn c = conns.get(cookie);
    if (c == null) {
      return;
    }
    c.closedAs = event;
    c.closeMono = closeMono;
    if (c.closeDue == 0) {
      closesPending.add(c);
    }
    c.closeDue = batch + 1;
  }

  private long batch = 1;
  /** The connections whose close is noted but not applied: the batch end looks at these only. */
  private final List<Conn> closesPending = new ArrayList<>();
  private final List<Conn> closing = new ArrayList<>();

  /**
   * Applies the closes due, then hands what was framed to the listener, each with its
   * connection's identity: the one it closed with, else {@code open.apply(cookie)} (null: not
   * known, counted and dropped). Call after every drain, with or without records.
   */
  public void endOfBatch(LongFunction<ConnectionEvent> open) {
    // not a walk of every connection: a host with 10,000 idle WebSocket clients drains ~100 times a second
    if (!closesPending.isEmpty()) {
      for (var it = closesPending.iterator(); it.hasNext(); ) {
        Conn c = it.next();
        if (c.closeDue <= batch) {
          closing.add(c);
          it.remove();
        }
      }
    }
    for (Conn c : closing) {
      conns.remove(c.cookie);
      if (c == last) {
        last = null;
      }
      c.stream.closed(c.closeMono);
      fold(c.stream.losses());
    }
    closing.clear();
    batch++;
    if (framed.isEmpty()) {
      return;
    }
    List<Framed> now = framed;
    framed = handing; // what waits for an identity goes back in here
    handing = now;
    java.util.Set<Long> waiting = null; // cookies with an event held back (rare): allocated then
    for (Framed f : now) {
      // the identity is looked up now: a close in this batch has set it even for what came before
      ConnectionEvent c = f.conn().closedAs != null ? f.conn().closedAs : open.apply(f.conn().cookie);
      // an abandonment needs no identity (it counts down under the one its start was counted with)
      boolean needs = f.kind() != Kind.ABANDONED && c == null;
      if ((needs || waiting != null && waiting.contains(f.conn().cookie)) && f.waited() < IDENTITY_WAIT_BATCHES) {
        if (waiting == null) {
          waiting = new java.util.HashSet<>();
        }
        waiting.add(f.conn().cookie); // keep this connection's events in order
        framed.add(f.waitedOnce());
        continue;
      }
      ConnectionStream.Request r = f.request();
      try {
        switch (f.kind()) {
          case STARTED -> {
            if (c != null) {
              r.countedAs = listener.requestStarted(c, r.method);
            }
          }
          case ABANDONED -> uncount(r);
          case EXCHANGE -> {
            uncount(r);
            if (c == null) {
              counters.unknownConnection++;
            } else {
              counters.exchanges++;
              listener.exchange(toExchange(c, r));
            }
          }
          case MESSAGE -> {
            if (c == null) {
              counters.unknownConnection++;
            } else {
              counters.messages++;
              listener.webSocketMessage(c, f.received(), f.op(), f.size());
            }
          }
        }
      } catch (RuntimeException e) {
        System.getLogger(RequestTracker.class.getName()).log(System.Logger.Level.WARNING,
            "deliver request event: " + e);
      }
    }
    now.clear();
  }

  /** An active request ends: counted down where it was counted up. */
  private void uncount(ConnectionStream.Request r) {
    if (r.countedAs != null) {
      listener.requestEnded(r.countedAs);
      r.countedAs = null;
    }
  }

  /**
   * Drops the state of connections that are not open and had no data for {@code idleBatches}
   * drains (their close record was lost).
   */
  public void retain(LongPredicate open, long idleBatches) {
    conns.values().removeIf(c -> {
      if (c.closeDue != 0 || open.test(c.cookie) || batch - c.lastBatch < idleBatches) {
        return false;
      }
      if (c == last) {
        last = null;
      }
      c.stream.abandonOutstanding(); // delivered at the next batch's end: active requests count down
      fold(c.stream.losses());
      return true;
    });
  }

  private void fold(ConnectionStream.Losses l) {
    counters.desyncs += l.desyncs;
    counters.unmatchedRequests += l.unmatchedRequests;
    counters.unmatchedResponses += l.unmatchedResponses;
    if (l.tls) {
      counters.tlsConnections++;
    }
  }

  private HttpExchange toExchange(ConnectionEvent c, ConnectionStream.Request r) {
    return new HttpExchange(c, r.method, r.target, r.version == null ? "1.1" : r.version, r.status,
        clock.toEpochNanos(r.startMono), r.firstByteMono == 0 ? 0 : clock.toEpochNanos(r.firstByteMono),
        clock.toEpochNanos(Math.max(r.endMono, r.startMono)), r.requestBody, r.status == 0 ? -1 : r.responseBody,
        r.host, r.userAgent, r.traceparent, r.tracestate, r.errorType);
  }
}
