package dev.wmscope.otel;

import static dev.wmscope.otel.TelemetryNames.CLIENT_ADDRESS;
import static dev.wmscope.otel.TelemetryNames.CLIENT_PORT;
import static dev.wmscope.otel.TelemetryNames.ERROR_TYPE;
import static dev.wmscope.otel.TelemetryNames.NETWORK_IO_DIRECTION;
import static dev.wmscope.otel.TelemetryNames.PROCESS_PID;
import static dev.wmscope.otel.TelemetryNames.SERVER_ADDRESS;
import static dev.wmscope.otel.TelemetryNames.SERVER_PORT;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_MASTER_PID;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_ROLE;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_LISTEN;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_NAME;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.opentelemetry.semconv.UserAgentAttributes;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * HTTP exchanges and WebSocket messages as OpenTelemetry signals, after the HTTP server semantic
 * conventions: one SERVER span per request (a child of the caller's trace when the request
 * carried a W3C traceparent, else a root), {@code http.server.request.duration} and the body
 * size histograms, and wmscope's WebSocket message counter and size histogram.
 *
 * <p>Cardinality: metric attributes are the method (unknown ones as {@code _OTHER}), the status
 * code, the scheme, the protocol version, the route when one of the configured templates
 * matched, error.type, the server port and the worker name. Never the path, the client or the
 * pid.
 *
 * <p>Thread-safe (the SDK instruments are; the caches are concurrent maps).
 */
public final class RequestTelemetry {
  /** The methods of RFC 9110 and PATCH, the only ones reported as themselves (semconv). */
  static final Set<String> KNOWN_METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");
  /** url.path is cut to this many characters (never emptied). */
  public static final int MAX_PATH = 1024;
  private static final int MAX_CACHED_ATTRIBUTE_SETS = 4096;

  static final AttributeKey<Long> HTTP_REQUEST_BODY_SIZE = TelemetryNames.HTTP_REQUEST_BODY_SIZE;
  static final AttributeKey<Long> HTTP_RESPONSE_BODY_SIZE = TelemetryNames.HTTP_RESPONSE_BODY_SIZE;
  static final AttributeKey<Double> TIME_TO_FIRST_BYTE_MS = TelemetryNames.HTTP_TIME_TO_FIRST_BYTE_MS;
  static final AttributeKey<Double> REQUEST_DURATION_MS = TelemetryNames.HTTP_DURATION_MS;
  static final AttributeKey<String> WEBSOCKET_OPCODE = TelemetryNames.WEBSOCKET_OPCODE;

  private static final TextMapGetter<HttpExchange> TRACE_HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(HttpExchange x) {
      return List.of("traceparent", "tracestate");
    }

    @Override
    public String get(HttpExchange x, String key) {
      if (x == null) {
        return null;
      }
      return switch (key) {
        case "traceparent" -> x.traceparent();
        case "tracestate" -> x.tracestate();
        default -> null;
      };
    }
  };

  private final Tracer tracer;
  private final DoubleHistogram duration;
  private final LongHistogram requestBodySize;
  private final LongHistogram responseBodySize;
  private final LongCounter messages;
  /** Active requests by attribute set: LongAdders read by an observable instrument (cheap per request). */
  private final Map<ActiveKey, Active> active = new ConcurrentHashMap<>();
  private final boolean spans;
  private final LongHistogram messageSize;
  private final HttpRoutes routes;
  private final boolean captureQuery;
  private final boolean captureUserAgent;
  private final Map<MetricKey, Attributes> metricAttributes = new ConcurrentHashMap<>();
  private final Map<MessageKey, Attributes> messageAttributes = new ConcurrentHashMap<>();

  /**
   * @param routes           the route templates configured ({@code --http-route}); the route
   *                         and the span name come only from these
   * @param captureQuery     whether spans carry {@code url.query}
   * @param captureUserAgent whether spans carry {@code user_agent.original}
   */
  public RequestTelemetry(OpenTelemetry openTelemetry, HttpRoutes routes, boolean captureQuery,
      boolean captureUserAgent) {
    this(openTelemetry, routes, captureQuery, captureUserAgent, true);
  }

  /**
   * @param spans whether request spans are made: false when no span exporter is configured, so
   *              nothing pays for spans nobody can see (metrics are made either way)
   */
  public RequestTelemetry(OpenTelemetry openTelemetry, HttpRoutes routes, boolean captureQuery,
      boolean captureUserAgent, boolean spans) {
    this.spans = spans;
    this.routes = routes;
    this.captureQuery = captureQuery;
    this.captureUserAgent = captureUserAgent;
    tracer = Scope.tracer(openTelemetry);
    Meter meter = Scope.meter(openTelemetry);
    duration = meter.histogramBuilder(TelemetryNames.HTTP_SERVER_REQUEST_DURATION)
        .setUnit(TelemetryNames.HTTP_SERVER_REQUEST_DURATION_UNIT)
        .setDescription("Duration of HTTP server requests, from the read of the first request byte to the send"
            + " of the last response byte.")
        .setExplicitBucketBoundariesAdvice(TelemetryNames.HTTP_SERVER_REQUEST_DURATION_BUCKETS).build();
    requestBodySize = meter.histogramBuilder(TelemetryNames.HTTP_SERVER_REQUEST_BODY_SIZE).ofLongs().setUnit("By")
        .setDescription("Size of HTTP server request bodies.").build();
    responseBodySize = meter.histogramBuilder(TelemetryNames.HTTP_SERVER_RESPONSE_BODY_SIZE).ofLongs().setUnit("By")
        .setDescription("Size of HTTP server response bodies.").build();
    meter.upDownCounterBuilder(TelemetryNames.HTTP_SERVER_ACTIVE_REQUESTS).setUnit("{request}")
        .setDescription("HTTP server requests read and not yet answered.")
        .buildWithCallback(m -> active.values().forEach(a -> m.record(a.count.sum(), a.attributes)));
    messages = meter.counterBuilder(TelemetryNames.WEBSOCKET_MESSAGES).setUnit(TelemetryNames.WEBSOCKET_MESSAGES_UNIT)
        .setDescription(TelemetryNames.WEBSOCKET_MESSAGES_DESCRIPTION).build();
    messageSize = meter.histogramBuilder(TelemetryNames.WEBSOCKET_MESSAGE_SIZE).ofLongs()
        .setUnit(TelemetryNames.WEBSOCKET_MESSAGE_SIZE_UNIT).setDescription(TelemetryNames.WEBSOCKET_MESSAGE_SIZE_DESCRIPTION)
        .setExplicitBucketBoundariesAdvice(List.of(16L, 64L, 256L, 1024L, 4096L, 16384L, 65536L, 262144L, 1048576L))
        .build();
  }

  /** The span name, after the semantic conventions: {@code GET}, {@code GET /users/{id}}, {@code HTTP}. */
  static String spanName(String method, String route) {
    if (method == null || !KNOWN_METHODS.contains(method)) {
      return "HTTP";
    }
    return route == null ? method : method + " " + route;
  }

  /** The method as reported: itself when known, else {@code _OTHER}. */
  static String method(String method) {
    return method != null && KNOWN_METHODS.contains(method) ? method : HttpAttributes.HttpRequestMethodValues.OTHER;
  }

  /** The path of a request target: query and fragment dropped, an absolute URI's authority too, capped. */
  public static String pathOf(String target) {
    if (target == null || target.isEmpty()) {
      return null;
    }
    String t = target;
    int scheme = t.indexOf("://");
    if (scheme > 0 && scheme < 10) {
      int slash = t.indexOf('/', scheme + 3);
      t = slash < 0 ? "/" : t.substring(slash);
    }
    int q = t.indexOf('?');
    if (q >= 0) {
      t = t.substring(0, q);
    }
    int f = t.indexOf('#');
    if (f >= 0) {
      t = t.substring(0, f);
    }
    if (t.isEmpty()) {
      t = "/";
    }
    return t.length() > MAX_PATH ? t.substring(0, MAX_PATH) : t;
  }

  static String query(String target) {
    if (target == null) {
      return null;
    }
    int q = target.indexOf('?');
    if (q < 0) {
      return null;
    }
    int f = target.indexOf('#', q);
    String query = f < 0 ? target.substring(q + 1) : target.substring(q + 1, f);
    return query.length() > MAX_PATH ? query.substring(0, MAX_PATH) : query;
  }

  /** One request: its span and its metric points. */
  public void exchange(HttpExchange x) {
    String path = pathOf(x.target());
    String route = path == null ? null : routes.match(path);
    String method = method(x.method());
    String error = errorTypeOf(x);
    ConnectionEvent c = x.connection();
    if (spans) {
      span(x, path, route, method, error);
    }
    WorkerIdentity w = c.worker();
    String worker = w == null ? null : w.workerName();
    // consecutive requests mostly share their attribute set: the last one is tried first
    Memo<MetricKey, Attributes> last = lastMetric;
    Attributes a;
    if (last != null && last.key().is(method, x.status(), x.protocolVersion(), route, error, c.serverPort(), worker)) {
      a = last.value();
    } else {
      MetricKey k = new MetricKey(method, x.status(), x.protocolVersion(), route, error, c.serverPort(), worker);
      a = metricAttributes.computeIfAbsent(k, RequestTelemetry::metricAttributesOf);
      if (metricAttributes.size() > MAX_CACHED_ATTRIBUTE_SETS) {
        metricAttributes.clear();
      }
      lastMetric = new Memo<>(k, a);
    }
    duration.record(x.durationNanos() / 1e9, a, Context.root());
    if (x.requestBodySize() >= 0) {
      requestBodySize.record(x.requestBodySize(), a, Context.root());
    }
    if (x.responseBodySize() >= 0) {
      responseBodySize.record(x.responseBodySize(), a, Context.root());
    }
  }

  /**
   * A request's head was read: it is active (by method, scheme, server port and worker, the
   * semconv attributes of http.server.active_requests plus the worker) until
   * {@link #requestEnded} with the returned handle.
   */
  public Object requestStarted(ConnectionEvent c, String method) {
    String m = method(method);
    String worker = c.worker() == null ? null : c.worker().workerName();
    Memo<ActiveKey, Active> last = lastActive;
    Active a;
    if (last != null && last.key().is(m, c.serverPort(), worker)) {
      a = last.value();
    } else {
      ActiveKey k = new ActiveKey(m, c.serverPort(), worker);
      a = active.computeIfAbsent(k, Active::of);
      lastActive = new Memo<>(k, a);
    }
    a.count.increment();
    return a;
  }

  /** The request whose start returned {@code handle} was answered, or will not be reported. */
  public void requestEnded(Object handle) {
    ((Active) handle).count.decrement();
  }

  private record Active(Attributes attributes, java.util.concurrent.atomic.LongAdder count) {
    static Active of(ActiveKey k) {
      AttributesBuilder b = Attributes.builder().put(HttpAttributes.HTTP_REQUEST_METHOD, k.method())
          .put(UrlAttributes.URL_SCHEME, "http").put(SERVER_PORT, (long) k.port());
      if (k.worker() != null) {
        b.put(WORKERMAN_WORKER_NAME, k.worker());
      }
      return new Active(b.build(), new java.util.concurrent.atomic.LongAdder());
    }
  }

  private record ActiveKey(String method, int port, String worker) {
    boolean is(String method, int port, String worker) {
      return port == this.port && method.equals(this.method) && java.util.Objects.equals(worker, this.worker);
    }
  }

  private void span(HttpExchange x, String path, String route, String method, String error) {
    ConnectionEvent c = x.connection();
    Context parent = x.traceparent() == null ? Context.root()
        : W3CTraceContextPropagator.getInstance().extract(Context.root(), x, TRACE_HEADERS);
    SpanBuilder b = tracer.spanBuilder(spanName(x.method(), route)).setSpanKind(SpanKind.SERVER)
        .setParent(parent).setStartTimestamp(x.startEpochNanos(), TimeUnit.NANOSECONDS)
        .addLink(ConnectionSpanIds.context(c)); // the connection it came over (its span is made at close)
    b.setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, method);
    if (x.method() != null && !method.equals(x.method())) {
      b.setAttribute(HttpAttributes.HTTP_REQUEST_METHOD_ORIGINAL, x.method());
    }
    if (path != null) {
      b.setAttribute(UrlAttributes.URL_PATH, path);
    }
    if (captureQuery) {
      String q = query(x.target());
      if (q != null) {
        b.setAttribute(UrlAttributes.URL_QUERY, q);
      }
    }
    b.setAttribute(UrlAttributes.URL_SCHEME, "http");
    if (route != null) {
      b.setAttribute(HttpAttributes.HTTP_ROUTE, route);
    }
    if (x.status() > 0) {
      b.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) x.status());
    }
    b.setAttribute(NetworkAttributes.NETWORK_PROTOCOL_VERSION, x.protocolVersion());
    b.setAttribute(SERVER_ADDRESS, hostOf(x.host(), c.serverAddress()));
    b.setAttribute(SERVER_PORT, (long) c.serverPort());
    b.setAttribute(CLIENT_ADDRESS, c.peerAddress());
    b.setAttribute(CLIENT_PORT, (long) c.peerPort());
    if (captureUserAgent && x.userAgent() != null) {
      b.setAttribute(UserAgentAttributes.USER_AGENT_ORIGINAL, x.userAgent());
    }
    if (x.requestBodySize() >= 0) {
      b.setAttribute(HTTP_REQUEST_BODY_SIZE, x.requestBodySize());
    }
    if (x.responseBodySize() >= 0) {
      b.setAttribute(HTTP_RESPONSE_BODY_SIZE, x.responseBodySize());
    }
    if (x.firstByteEpochNanos() > 0) {
      b.setAttribute(TIME_TO_FIRST_BYTE_MS, Math.max(0, x.firstByteEpochNanos() - x.startEpochNanos()) / 1e6);
    }
    b.setAttribute(REQUEST_DURATION_MS, x.durationNanos() / 1e6);
    if (error != null) {
      b.setAttribute(ERROR_TYPE, error);
    }
    if (c.pid() > 0) {
      b.setAttribute(PROCESS_PID, c.pid());
    }
    WorkerIdentity w = c.worker();
    if (w != null) {
      b.setAttribute(WORKERMAN_WORKER_NAME, w.workerName());
      b.setAttribute(WORKERMAN_WORKER_LISTEN, w.listen());
      b.setAttribute(WORKERMAN_MASTER_PID, w.masterPid());
      b.setAttribute(WORKERMAN_ROLE, w.role());
    }
    Span span = b.startSpan();
    if (error != null) {
      span.setStatus(StatusCode.ERROR, x.status() >= 500 ? "HTTP " + x.status() : error);
    }
    span.end(x.endEpochNanos(), TimeUnit.NANOSECONDS);
  }

  /** One WebSocket message of a connection. */
  public void webSocketMessage(ConnectionEvent c, boolean received, WebSocketOpcode op, long payloadBytes) {
    String worker = c.worker() == null ? null : c.worker().workerName();
    Memo<MessageKey, Attributes> last = received ? lastReceived : lastSent; // an echo alternates the two
    Attributes a;
    if (last != null && last.key().is(c.serverPort(), worker, op)) {
      a = last.value();
    } else {
      MessageKey k = new MessageKey(c.serverPort(), worker, received, op);
      a = messageAttributes.computeIfAbsent(k, RequestTelemetry::messageAttributesOf);
      if (received) {
        lastReceived = new Memo<>(k, a);
      } else {
        lastSent = new Memo<>(k, a);
      }
    }
    messages.add(1, a, Context.root());
    messageSize.record(payloadBytes, a, Context.root());
  }

  /** error.type: the status code for 5xx (semconv), ours for a request without a complete response. */
  public static String errorTypeOf(HttpExchange x) {
    if (x.errorType() != null) {
      return x.errorType();
    }
    return x.status() >= 500 ? Integer.toString(x.status()) : null;
  }

  /** The host of a Host header (port and IPv6 brackets removed), else the server's address. */
  static String hostOf(String hostHeader, String fallback) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return fallback;
    }
    String h = hostHeader.strip();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 1 ? h.substring(1, end) : fallback;
    }
    int colon = h.indexOf(':');
    String host = colon >= 0 ? h.substring(0, colon) : h;
    return host.isEmpty() || host.length() > 255 ? fallback : host;
  }

  private record MetricKey(String method, int status, String version, String route, String error, int port,
      String worker) {
    boolean is(String method, int status, String version, String route, String error, int port, String worker) {
      return status == this.status && port == this.port && java.util.Objects.equals(method, this.method)
          && java.util.Objects.equals(version, this.version) && java.util.Objects.equals(route, this.route)
          && java.util.Objects.equals(error, this.error) && java.util.Objects.equals(worker, this.worker);
    }
  }

  /**
   * The last key looked up and what it gave (an attribute set, an active-request count): tried
   * before the map, since consecutive events mostly share it. Immutable: safe to share.
   */
  private record Memo<K, V>(K key, V value) {}

  private volatile Memo<ActiveKey, Active> lastActive;
  private volatile Memo<MetricKey, Attributes> lastMetric;
  private volatile Memo<MessageKey, Attributes> lastReceived;
  private volatile Memo<MessageKey, Attributes> lastSent;

  private static Attributes metricAttributesOf(MetricKey k) {
    AttributesBuilder b = Attributes.builder().put(HttpAttributes.HTTP_REQUEST_METHOD, k.method())
        .put(UrlAttributes.URL_SCHEME, "http").put(NetworkAttributes.NETWORK_PROTOCOL_VERSION, k.version())
        .put(SERVER_PORT, (long) k.port());
    if (k.status() > 0) {
      b.put(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) k.status());
    }
    if (k.route() != null) {
      b.put(HttpAttributes.HTTP_ROUTE, k.route());
    }
    if (k.error() != null) {
      b.put(ERROR_TYPE, k.error());
    }
    if (k.worker() != null) {
      b.put(WORKERMAN_WORKER_NAME, k.worker());
    }
    return b.build();
  }

  private record MessageKey(int port, String worker, boolean received, WebSocketOpcode op) {
    boolean is(int port, String worker, WebSocketOpcode op) { // the direction is the memo's own
      return port == this.port && op == this.op && java.util.Objects.equals(worker, this.worker);
    }
  }

  private static Attributes messageAttributesOf(MessageKey k) {
    AttributesBuilder b = Attributes.builder().put(SERVER_PORT, (long) k.port())
        .put(NETWORK_IO_DIRECTION, k.received() ? TelemetryNames.IO_RECEIVE : TelemetryNames.IO_TRANSMIT)
        .put(WEBSOCKET_OPCODE, k.op().value());
    if (k.worker() != null) {
      b.put(WORKERMAN_WORKER_NAME, k.worker());
    }
    return b.build();
  }
}
