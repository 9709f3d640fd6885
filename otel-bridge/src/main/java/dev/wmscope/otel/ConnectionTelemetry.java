package dev.wmscope.otel;

import static dev.wmscope.otel.TelemetryNames.CLIENT_ADDRESS;
import static dev.wmscope.otel.TelemetryNames.CLIENT_PORT;
import static dev.wmscope.otel.TelemetryNames.CONNECTIONS_ACTIVE;
import static dev.wmscope.otel.TelemetryNames.CONNECTIONS_ACTIVE_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.CONNECTIONS_CLOSED;
import static dev.wmscope.otel.TelemetryNames.CONNECTIONS_CLOSED_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.CONNECTIONS_OPENED;
import static dev.wmscope.otel.TelemetryNames.CONNECTIONS_OPENED_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_DURATION;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_DURATION_BUCKETS;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_DURATION_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_DURATION_MS;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_DURATION_UNIT;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_SIDE;
import static dev.wmscope.otel.TelemetryNames.NETWORK_IO;
import static dev.wmscope.otel.TelemetryNames.NETWORK_IO_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.NETWORK_IO_UNIT;
import static dev.wmscope.otel.TelemetryNames.NETWORK_LOCAL_ADDRESS;
import static dev.wmscope.otel.TelemetryNames.NETWORK_LOCAL_PORT;
import static dev.wmscope.otel.TelemetryNames.NETWORK_PEER_ADDRESS;
import static dev.wmscope.otel.TelemetryNames.NETWORK_PEER_PORT;
import static dev.wmscope.otel.TelemetryNames.NETWORK_TRANSPORT;
import static dev.wmscope.otel.TelemetryNames.NETWORK_TYPE;
import static dev.wmscope.otel.TelemetryNames.PROCESS_EXECUTABLE_NAME;
import static dev.wmscope.otel.TelemetryNames.PROCESS_PID;
import static dev.wmscope.otel.TelemetryNames.SERVER_ADDRESS;
import static dev.wmscope.otel.TelemetryNames.SERVER_PORT;
import static dev.wmscope.otel.TelemetryNames.SIDE_CLIENT;
import static dev.wmscope.otel.TelemetryNames.SIDE_SERVER;
import static dev.wmscope.otel.TelemetryNames.TCP_BYTES_RECEIVED;
import static dev.wmscope.otel.TelemetryNames.TCP_BYTES_SENT;
import static dev.wmscope.otel.TelemetryNames.TCP_RETRANSMITS;
import static dev.wmscope.otel.TelemetryNames.TCP_RTT_US;
import static dev.wmscope.otel.TelemetryNames.TCP_SEGS_IN;
import static dev.wmscope.otel.TelemetryNames.TCP_SEGS_OUT;
import static dev.wmscope.otel.TelemetryNames.UNIT_CONNECTIONS;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_INTERNAL;
import static dev.wmscope.otel.TelemetryNames.CLOSE_CAUSE;
import static dev.wmscope.otel.TelemetryNames.CONNECTION_PREEXISTING;
import static dev.wmscope.otel.TelemetryNames.ERROR_TYPE;
import static dev.wmscope.otel.TelemetryNames.TCP_RETRANSMITS_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.TCP_RTT;
import static dev.wmscope.otel.TelemetryNames.TCP_RTT_BUCKETS;
import static dev.wmscope.otel.TelemetryNames.TCP_RTT_DESCRIPTION;
import static dev.wmscope.otel.TelemetryNames.UNIT_SEGMENTS;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_MASTER_PID;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_ROLE;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_START_FILE;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_LISTEN;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_NAME;

import dev.wmscope.otel.ConnectionEvent.Side;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.semconv.NetworkAttributes.NetworkTransportValues;
import io.opentelemetry.semconv.NetworkAttributes.NetworkTypeValues;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

/**
 * Turns {@link ConnectionEvent}s into OpenTelemetry signals: one span per closed connection and
 * connection/byte/duration metrics aggregated by server port, side, IP family and process.
 *
 * <p>Thread-safe: any number of threads may call every method concurrently. Instruments are built once in the constructor and metric attribute sets are
 * cached, so the per-event cost is the span plus a map lookup.
 *
 * <p>Ownership: the {@link OpenTelemetry} instance belongs to the caller, who builds it (the
 * agent's entry point, via autoconfigure) and flushes and shuts it down. This class holds no
 * resources of its own and has nothing to close. It never touches {@code GlobalOpenTelemetry}.
 */
public final class ConnectionTelemetry {

  /**
   * How long the counters of a process that has exited (with nothing left open) stay exported
   * by default: long enough for any exporter interval and scrape interval to read their final
   * values.
   */
  public static final Duration DEFAULT_SERIES_RETENTION = Duration.ofMinutes(5);

  /** How often {@link #expireSeries} looks for series to drop. */
  private static final long EXPIRY_PERIOD_NANOS = 1_000_000_000L;

  /**
   * Cap on cached histogram attribute sets (no pid in them, so a handful per port); clearing
   * costs only a rebuild.
   */
  private static final int MAX_CACHED_HISTOGRAM_SETS = 4096;

  /**
   * The context metrics are recorded in. The poll thread has none, and without this argument
   * the SDK asks Context.current() (a thread-local read) on every record: ~10% of the poll
   * thread's samples under churn (bench/README.md).
   */
  private static final Context NO_CONTEXT = Context.root();

  private final Tracer tracer;
  private final DoubleHistogram duration;
  private final DoubleHistogram rtt;
  private final ConnectionSeries series = new ConnectionSeries();
  private final ConcurrentHashMap<Long, HistogramAttributes> histogramAttributes = new ConcurrentHashMap<>();
  private final long retentionNanos;
  private final LongPredicate processAlive;
  private long nextExpiryNanos = Long.MIN_VALUE;

  /**
   * A bridge whose counters never expire: for callers that do not know which processes live
   * (tests, embedders); see {@link #ConnectionTelemetry(OpenTelemetry, Duration, LongPredicate)}.
   */
  public ConnectionTelemetry(OpenTelemetry openTelemetry) {
    this(openTelemetry, DEFAULT_SERIES_RETENTION, pid -> true);
  }

  /**
   * @param openTelemetry the caller-owned API entry point; its tracer and meter providers supply
   *     a tracer and meter with scope {@value TelemetryNames#SCOPE_NAME}
   * @param seriesRetention how long the counter series of an exited process (nothing open) stay
   *     exported before {@link #expireSeries} drops them
   * @param processAlive whether a pid is still running; called by {@link #expireSeries} only
   */
  public ConnectionTelemetry(OpenTelemetry openTelemetry, Duration seriesRetention, LongPredicate processAlive) {
    Objects.requireNonNull(openTelemetry, "openTelemetry");
    this.retentionNanos = Objects.requireNonNull(seriesRetention, "seriesRetention").toNanos();
    this.processAlive = Objects.requireNonNull(processAlive, "processAlive");
    tracer = Scope.tracer(openTelemetry);
    Meter meter = Scope.meter(openTelemetry);

    // Counters are observable, fed from the series table, so that exited processes' series can
    // go (ConnectionSeries). Their exported form is that of a counter / up-down counter.
    meter
        .counterBuilder(CONNECTIONS_OPENED)
        .setDescription(CONNECTIONS_OPENED_DESCRIPTION)
        .setUnit(UNIT_CONNECTIONS)
        .buildWithCallback(series::observeOpened);
    meter
        .counterBuilder(CONNECTIONS_CLOSED)
        .setDescription(CONNECTIONS_CLOSED_DESCRIPTION)
        .setUnit(UNIT_CONNECTIONS)
        .buildWithCallback(series::observeClosed);
    meter
        .upDownCounterBuilder(CONNECTIONS_ACTIVE)
        .setDescription(CONNECTIONS_ACTIVE_DESCRIPTION)
        .setUnit(UNIT_CONNECTIONS)
        .buildWithCallback(series::observeActive);
    meter
        .counterBuilder(NETWORK_IO)
        .setDescription(NETWORK_IO_DESCRIPTION)
        .setUnit(NETWORK_IO_UNIT)
        .buildWithCallback(series::observeNetworkIo);
    meter
        .counterBuilder(TelemetryNames.TCP_RETRANSMITS_METRIC)
        .setDescription(TCP_RETRANSMITS_DESCRIPTION)
        .setUnit(UNIT_SEGMENTS)
        .buildWithCallback(series::observeRetransmits);
    // Histograms have no observable form; they carry no process.pid, so their attribute sets
    // are bounded by ports and flags whatever the reloads.
    duration =
        meter
            .histogramBuilder(CONNECTION_DURATION)
            .setDescription(CONNECTION_DURATION_DESCRIPTION)
            .setUnit(CONNECTION_DURATION_UNIT)
            .setExplicitBucketBoundariesAdvice(CONNECTION_DURATION_BUCKETS)
            .build();
    rtt =
        meter
            .histogramBuilder(TCP_RTT)
            .setDescription(TCP_RTT_DESCRIPTION)
            .setUnit(CONNECTION_DURATION_UNIT)
            .setExplicitBucketBoundariesAdvice(TCP_RTT_BUCKETS)
            .build();
  }

  /**
   * Drops the counter series of processes that exited at least the retention time ago and hold
   * no open connection. Cheap to call often: it looks at most once a second. Call it from the
   * thread that records (the agent's poll thread), so a drop never races a record.
   *
   * @return the number of series dropped
   */
  public int expireSeries(long nowNanos) {
    if (nowNanos - nextExpiryNanos < 0 && nextExpiryNanos != Long.MIN_VALUE) {
      return 0;
    }
    nextExpiryNanos = nowNanos + EXPIRY_PERIOD_NANOS;
    return series.expire(nowNanos, retentionNanos, processAlive);
  }

  /** Counter series held now (one per pid, port, side, family, worker and internal flag). */
  public int seriesCount() {
    return series.size();
  }

  /** Payload moved on an open connection since the last report (live reads). */
  public void transferred(ConnectionEvent e, long received, long sent) {
    if (received <= 0 && sent <= 0) {
      return;
    }
    ConnectionSeries.Series m = series(e);
    if (received > 0) {
      m.received.add(received);
    }
    if (sent > 0) {
      m.sent.add(sent);
    }
  }

  /** Segments retransmitted on a connection since the last report. */
  public void retransmitted(ConnectionEvent e, long segments) {
    if (segments > 0) {
      series(e).retransmits.add(segments);
    }
  }

  /** One smoothed-RTT sample of a connection. */
  public void rttSample(ConnectionEvent e, long srttMicros) {
    if (srttMicros > 0) {
      rtt.record(srttMicros / 1e6, histogramAttributes(e).common(), NO_CONTEXT);
    }
  }

  /** Records a newly established connection. Only side, IP family, ports and pid are read. */
  public void opened(ConnectionEvent e) {
    ConnectionSeries.Series m = series(e);
    m.opened.increment();
    m.active.increment();
  }

  /**
   * An open connection now classified otherwise (the same connection, another label set): its
   * active count moves to the new series. Its open and what it moved so far stay counted where
   * they were (counters never go back); its close and later traffic count in the new one.
   */
  public void reclassified(ConnectionEvent before, ConnectionEvent after) {
    if (labelKey(before, true) == labelKey(after, true)) {
      return;
    }
    series(before).active.decrement();
    series(after).active.increment();
  }

  /**
   * Records a closed connection whose totals were never reported while it was open: emits its
   * span (timestamps from the event, no parent) and updates every connection metric.
   */
  public void closed(ConnectionEvent e) {
    closed(e, e.bytesReceived(), e.bytesSent(), e.retransmits());
  }

  /**
   * Records a closed connection of which live reads already reported part: the uncounted
   * arguments are what was not reported yet, so byte and retransmit counters never count twice.
   * The span carries the connection's full totals.
   */
  public void closed(ConnectionEvent e, long uncountedReceived, long uncountedSent, long uncountedRetransmits) {
    long start = e.startEpochNanos();
    // start + duration equals endEpochNanos for a well-formed event and never precedes start.
    long end = start + e.durationNanos();
    SpanBuilder builder =
        tracer
            .spanBuilder(cachedSpanName(e))
            .setSpanKind(e.side() == Side.SERVER ? SpanKind.SERVER : SpanKind.CLIENT)
            .setNoParent()
            .setStartTimestamp(start, TimeUnit.NANOSECONDS);
    // Attributes before start, so a sampler can keep errors and slow connections. Written
    // straight into the span builder: building an Attributes first (spanAttributes) sorted and
    // copied ~20 keys per span, the largest cost of the bridge (bench/README.md).
    writeSpanAttributes(e, new AttributeSink() {
      @Override
      public <T> void put(AttributeKey<T> key, T value) {
        builder.setAttribute(key, value);
      }
    });
    ConnectionSpanIds.presetFor(e); // so request spans of this connection link to this span
    Span span;
    try {
      span = builder.startSpan();
    } finally {
      ConnectionSpanIds.clearPreset();
    }
    CloseCause cause = e.closeCause();
    if (cause != null && cause.abnormal()) {
      span.setStatus(StatusCode.ERROR, "close cause: " + cause.value());
    }
    span.end(end, TimeUnit.NANOSECONDS);

    ConnectionSeries.Series m = series(e);
    m.closed(cause);
    m.active.decrement();
    transferred(e, uncountedReceived, uncountedSent);
    retransmitted(e, uncountedRetransmits);
    rttSample(e, e.srttMicros());
    duration.record(e.durationNanos() / 1e9, histogramAttributes(e).duration(cause), NO_CONTEXT);
  }

  /**
   * The full per-connection attribute set of a span. Public and static because the agent also
   * writes these as JSON lines, which must use exactly the same keys and values.
   */
  public static Attributes spanAttributes(ConnectionEvent e) {
    AttributesBuilder b = Attributes.builder();
    writeSpanAttributes(e, new AttributeSink() {
      @Override
      public <T> void put(AttributeKey<T> key, T value) {
        b.put(key, value);
      }
    });
    return b.build();
  }

  /** Where a connection's span attributes go: a span builder, or an Attributes builder. */
  private interface AttributeSink {
    <T> void put(AttributeKey<T> key, T value);
  }

  /** The one list of span attributes, for the span and for {@link #spanAttributes}. */
  private static void writeSpanAttributes(ConnectionEvent e, AttributeSink b) {
    boolean server = e.side() == Side.SERVER;
    b.put(NETWORK_TRANSPORT, NetworkTransportValues.TCP);
    b.put(NETWORK_TYPE, networkType(e));
    b.put(NETWORK_PEER_ADDRESS, e.peerAddress());
    b.put(NETWORK_PEER_PORT, (long) e.peerPort());
    b.put(NETWORK_LOCAL_ADDRESS, e.localAddress());
    b.put(NETWORK_LOCAL_PORT, (long) e.localPort());
    b.put(SERVER_ADDRESS, e.serverAddress());
    b.put(SERVER_PORT, (long) e.serverPort());
    // The client is the peer of an accepted connection and this host for an initiated one.
    b.put(CLIENT_ADDRESS, server ? e.peerAddress() : e.localAddress());
    b.put(CLIENT_PORT, (long) (server ? e.peerPort() : e.localPort()));
    b.put(CONNECTION_SIDE, server ? SIDE_SERVER : SIDE_CLIENT);
    b.put(CONNECTION_INTERNAL, e.internal());
    b.put(TCP_BYTES_RECEIVED, e.bytesReceived());
    b.put(TCP_BYTES_SENT, e.bytesSent());
    b.put(TCP_SEGS_IN, e.segmentsIn());
    b.put(TCP_SEGS_OUT, e.segmentsOut());
    b.put(TCP_RTT_US, e.srttMicros());
    b.put(TCP_RETRANSMITS, e.retransmits());
    b.put(CONNECTION_DURATION_MS, e.durationNanos() / 1e6);
    if (e.pid() > 0) {
      b.put(PROCESS_PID, e.pid());
    }
    if (e.processName() != null && !e.processName().isEmpty()) {
      b.put(PROCESS_EXECUTABLE_NAME, e.processName());
    }
    CloseCause cause = e.closeCause();
    if (cause != null) {
      b.put(CLOSE_CAUSE, cause.value());
      if (cause.abnormal()) {
        b.put(ERROR_TYPE, cause.value());
      }
    }
    if (e.preexisting()) {
      b.put(CONNECTION_PREEXISTING, true);
    }
    WorkerIdentity w = e.worker();
    if (w != null) {
      b.put(WORKERMAN_WORKER_NAME, w.workerName());
      b.put(WORKERMAN_WORKER_LISTEN, w.listen());
      b.put(WORKERMAN_MASTER_PID, w.masterPid());
      b.put(WORKERMAN_START_FILE, w.startFile());
      b.put(WORKERMAN_ROLE, w.role());
    }
  }

  /** The span name of the previous connection: a server's connections all share one. */
  private record SpanName(String host, int port, String name) {}

  private SpanName lastSpanName = new SpanName("", -1, "");

  private String cachedSpanName(ConnectionEvent e) {
    SpanName last = lastSpanName;
    if (last.port() == e.serverPort() && last.host().equals(e.serverAddress())) {
      return last.name();
    }
    String name = spanName(e);
    lastSpanName = new SpanName(e.serverAddress(), e.serverPort(), name);
    return name;
  }

  /** "tcp host:port" of the server end, IPv6 hosts in brackets as in a URI authority. */
  static String spanName(ConnectionEvent e) {
    String host = e.serverAddress();
    return host.indexOf(':') >= 0
        ? "tcp [" + host + "]:" + e.serverPort()
        : "tcp " + host + ":" + e.serverPort();
  }

  private static String networkType(ConnectionEvent e) {
    return e.ipv6() ? NetworkTypeValues.IPV6 : NetworkTypeValues.IPV4;
  }

  /**
   * The label set packed into one long: pid in the high half (a tgid fits 32 bits; Linux
   * pid_max is at most 2^22), then the 16-bit port, then one bit each for worker known,
   * internal, side and family. The worker name is a function of the pid while it lives.
   */
  private static long labelKey(ConnectionEvent e, boolean withPid) {
    long pid = withPid && e.pid() > 0 ? e.pid() : 0;
    return pid << 32
        | (e.serverPort() & 0xFFFFL) << 4
        | (e.worker() != null ? 8L : 0L)
        | (e.internal() ? 4L : 0L)
        | (e.side() == Side.CLIENT ? 2L : 0L)
        | (e.ipv6() ? 1L : 0L);
  }

  /** The counter series of the event's (server port, side, family, pid, worker, internal). */
  private ConnectionSeries.Series series(ConnectionEvent e) {
    return series.get(labelKey(e, true), k -> new ConnectionSeries.Series(e.pid(), baseAttributes(e, true)));
  }

  /** Cached histogram attributes: the counters' labels without process.pid. */
  private HistogramAttributes histogramAttributes(ConnectionEvent e) {
    long key = labelKey(e, false) | (e.worker() != null ? (long) e.worker().workerName().hashCode() << 32 : 0L);
    HistogramAttributes cached = histogramAttributes.get(key);
    if (cached != null && cached.matches(e)) {
      return cached;
    }
    if (histogramAttributes.size() >= MAX_CACHED_HISTOGRAM_SETS) {
      histogramAttributes.clear();
    }
    HistogramAttributes built = HistogramAttributes.of(e);
    histogramAttributes.put(key, built);
    return built;
  }

  /**
   * The low-cardinality metric labels of a connection. Never the client or peer address or
   * port: those are unbounded and would explode metric cardinality.
   */
  private static Attributes baseAttributes(ConnectionEvent e, boolean withPid) {
    AttributesBuilder b =
        Attributes.builder()
            .put(SERVER_PORT, e.serverPort())
            .put(CONNECTION_SIDE, e.side() == Side.SERVER ? SIDE_SERVER : SIDE_CLIENT)
            .put(NETWORK_TYPE, networkType(e))
            .put(CONNECTION_INTERNAL, e.internal());
    if (withPid && e.pid() > 0) {
      b.put(PROCESS_PID, e.pid());
    }
    if (e.worker() != null) {
      b.put(WORKERMAN_WORKER_NAME, e.worker().workerName());
    }
    return b.build();
  }

  /** Pre-built histogram attribute sets for one label set (no pid). */
  private record HistogramAttributes(String workerName, Attributes common, Map<CloseCause, Attributes> durationByCause) {

    /** The key folds the worker name into a hash: check the name itself. */
    boolean matches(ConnectionEvent e) {
      return Objects.equals(workerName, e.worker() == null ? null : e.worker().workerName());
    }

    /** Duration carries the close cause, and error.type for abnormal closes as kestrel.connection.duration does. */
    Attributes duration(CloseCause cause) {
      return cause == null ? common : durationByCause.get(cause);
    }

    static HistogramAttributes of(ConnectionEvent e) {
      Attributes common = baseAttributes(e, false);
      Map<CloseCause, Attributes> durationByCause = new EnumMap<>(CloseCause.class);
      for (CloseCause c : CloseCause.values()) {
        Attributes withCause = common.toBuilder().put(CLOSE_CAUSE, c.value()).build();
        durationByCause.put(c, c.abnormal() ? withCause.toBuilder().put(ERROR_TYPE, c.value()).build() : withCause);
      }
      return new HistogramAttributes(e.worker() == null ? null : e.worker().workerName(), common, durationByCause);
    }
  }
}
