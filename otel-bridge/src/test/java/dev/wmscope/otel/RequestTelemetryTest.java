package dev.wmscope.otel;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Request spans and metrics after the HTTP server semantic conventions, read back from the SDK. */
class RequestTelemetryTest {
  private final TestSdk sdk = new TestSdk();
  private final RequestTelemetry telemetry =
      new RequestTelemetry(sdk.sdk, HttpRoutes.of(List.of("/users/{id}", "/static/{path...}")), false, false);

  @AfterEach
  void close() {
    sdk.close();
  }

  private static HttpExchange exchange(String method, String target, int status) {
    return new HttpExchange(Events.serverIpv4(), method, target, "1.1", status, Events.START,
        Events.START + 2_000_000, Events.START + 5_000_000, 0, 42, "shop.example:8080", "curl/8", null, null, null);
  }

  private SpanData onlySpan() {
    List<SpanData> spans = sdk.spans.getFinishedSpanItems();
    assertThat(spans).hasSize(1);
    return spans.getFirst();
  }

  @Test
  void aRequestIsOneServerSpanWithTheSemanticConventionAttributes() {
    telemetry.exchange(exchange("GET", "/users/17?token=secret", 200));
    SpanData s = onlySpan();
    assertThat(s).hasName("GET /users/{id}").hasKind(SpanKind.SERVER)
        .startsAt(Events.START).endsAt(Events.START + 5_000_000);
    assertThat(s.getParentSpanContext().isValid()).isFalse();
    Attributes a = s.getAttributes();
    assertThat(a.get(AttributeKey.stringKey("http.request.method"))).isEqualTo("GET");
    assertThat(a.get(AttributeKey.stringKey("url.path"))).isEqualTo("/users/17");
    assertThat(a.get(AttributeKey.stringKey("url.query"))).as("off by default").isNull();
    assertThat(a.get(AttributeKey.stringKey("http.route"))).isEqualTo("/users/{id}");
    assertThat(a.get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200);
    assertThat(a.get(AttributeKey.stringKey("server.address"))).as("the Host header's host").isEqualTo("shop.example");
    assertThat(a.get(AttributeKey.longKey("server.port"))).isEqualTo(8080);
    assertThat(a.get(AttributeKey.stringKey("client.address"))).isEqualTo("192.0.2.7");
    assertThat(a.get(AttributeKey.longKey("client.port"))).isEqualTo(51234);
    assertThat(a.get(AttributeKey.stringKey("user_agent.original"))).as("opt-in").isNull();
    assertThat(a.get(AttributeKey.doubleKey("wmscope.http.time_to_first_byte_ms"))).isEqualTo(2.0);
    assertThat(a.get(AttributeKey.longKey("http.response.body.size"))).isEqualTo(42);
    assertThat(a.get(AttributeKey.stringKey("workerman.worker.name"))).isEqualTo("ChatGateway");
    assertThat(a.get(AttributeKey.longKey("process.pid"))).isEqualTo(4242);
    assertThat(a.get(AttributeKey.stringKey("error.type"))).isNull();
    assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
  }

  @Test
  void aRequestSpanLinksToTheContextItsConnectionSpanIsGiven() {
    telemetry.exchange(exchange("GET", "/", 200));
    SpanData s = onlySpan();
    assertThat(s.getLinks()).singleElement().satisfies(l -> {
      assertThat(l.getSpanContext()).isEqualTo(ConnectionSpanIds.context(Events.serverIpv4()));
      assertThat(l.getSpanContext().getTraceId()).isNotEqualTo(s.getTraceId()).hasSize(32);
    });
    // the open and the close event of one connection give the same context; another connection another
    ConnectionEvent open = Events.opening(Events.serverIpv4());
    assertThat(ConnectionSpanIds.context(open)).isEqualTo(ConnectionSpanIds.context(Events.serverIpv4()));
    assertThat(ConnectionSpanIds.context(Events.server(51235, 1, 0, 0)))
        .isNotEqualTo(ConnectionSpanIds.context(Events.server(51234, 1, 0, 0)));
  }

  @Test
  void aConnectionSpanTakesThePresetIdsWhenTheSdkAsksForThem() {
    var exporter = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
    var provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
        .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(exporter))
        .setIdGenerator(new io.opentelemetry.sdk.trace.IdGenerator() {
          private final io.opentelemetry.sdk.trace.IdGenerator random = io.opentelemetry.sdk.trace.IdGenerator.random();

          @Override
          public String generateSpanId() {
            String p = ConnectionSpanIds.takeSpanId();
            return p != null ? p : random.generateSpanId();
          }

          @Override
          public String generateTraceId() {
            String p = ConnectionSpanIds.takeTraceId();
            return p != null ? p : random.generateTraceId();
          }
        }).build();
    try (var otel = io.opentelemetry.sdk.OpenTelemetrySdk.builder().setTracerProvider(provider).build()) {
      new ConnectionTelemetry(otel).closed(Events.serverIpv4());
      var span = exporter.getFinishedSpanItems().getFirst();
      assertThat(span.getSpanContext().getTraceId()).isEqualTo(ConnectionSpanIds.context(Events.serverIpv4()).getTraceId());
      assertThat(span.getSpanContext().getSpanId()).isEqualTo(ConnectionSpanIds.context(Events.serverIpv4()).getSpanId());
      assertThat(ConnectionSpanIds.takeSpanId()).as("the preset is used once").isNull();
    }
  }

  @Test
  void withoutAMatchingRouteTheSpanIsNamedByTheMethodAloneNeverThePath() {
    telemetry.exchange(exchange("POST", "/orders/9/items", 201));
    assertThat(onlySpan()).hasName("POST");
    assertThat(onlySpan().getAttributes().get(AttributeKey.stringKey("http.route"))).isNull();
  }

  @Test
  void unknownMethodsAreOtherAndTheSpanIsHttp() {
    telemetry.exchange(exchange("PURGE", "/cache", 200));
    SpanData s = onlySpan();
    assertThat(s).hasName("HTTP");
    assertThat(s.getAttributes().get(AttributeKey.stringKey("http.request.method"))).isEqualTo("_OTHER");
    assertThat(s.getAttributes().get(AttributeKey.stringKey("http.request.method_original"))).isEqualTo("PURGE");
  }

  @Test
  void fiveHundredsAndRequestsWithoutAResponseAreErrors() {
    telemetry.exchange(exchange("GET", "/boom", 503));
    SpanData s = onlySpan();
    assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(s.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("503");
    sdk.spans.reset();
    HttpExchange x = exchange("GET", "/slow", 0);
    telemetry.exchange(new HttpExchange(x.connection(), "GET", "/slow", "1.1", 0, x.startEpochNanos(), 0,
        x.endEpochNanos(), 0, -1, null, null, null, null, HttpExchange.CONNECTION_CLOSED));
    s = onlySpan();
    assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(s.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("connection_closed");
    assertThat(s.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isNull();
    assertThat(s.getAttributes().get(AttributeKey.stringKey("server.address"))).as("no Host: the local address")
        .isEqualTo("10.0.0.5");
  }

  @Test
  void aTraceparentMakesTheSpanAChildOfTheCallersSpan() {
    HttpExchange x = exchange("GET", "/", 200);
    telemetry.exchange(new HttpExchange(x.connection(), "GET", "/", "1.1", 200, x.startEpochNanos(), 0,
        x.endEpochNanos(), 0, 2, null, null, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v", null));
    SpanData s = onlySpan();
    assertThat(s.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(s.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
    assertThat(s.getParentSpanContext().isRemote()).isTrue();
    assertThat(s.getSpanContext().getTraceState().get("k")).isEqualTo("v");
  }

  @Test
  void aMalformedTraceparentGivesARootSpan() {
    HttpExchange x = exchange("GET", "/", 200);
    telemetry.exchange(new HttpExchange(x.connection(), "GET", "/", "1.1", 200, x.startEpochNanos(), 0,
        x.endEpochNanos(), 0, 2, null, null, "00-zz-yy-01", null, null));
    assertThat(onlySpan().getParentSpanContext().isValid()).isFalse();
  }

  @Test
  void longPathsAreCutNeverEmptied() {
    assertThat(RequestTelemetry.pathOf("/" + "a".repeat(5000))).hasSize(RequestTelemetry.MAX_PATH);
    assertThat(RequestTelemetry.pathOf("?only=query")).isEqualTo("/");
    assertThat(RequestTelemetry.pathOf("http://h:1/abs/path?q")).isEqualTo("/abs/path");
    assertThat(RequestTelemetry.pathOf("*")).isEqualTo("*");
  }

  @Test
  void theDurationMetricCarriesLowCardinalityAttributesOnly() {
    for (int i = 0; i < 30; i++) {
      telemetry.exchange(exchange("GET", "/users/" + i + "?x=" + i, i % 3 == 0 ? 500 : 200));
    }
    MetricData duration = metric(TelemetryNames.HTTP_SERVER_REQUEST_DURATION);
    assertThat(duration.getUnit()).isEqualTo("s");
    List<HistogramPointData> points = List.copyOf(duration.getHistogramData().getPoints());
    assertThat(points).hasSize(2); // 200 and 500: no path, client or pid splits them
    assertThat(points.stream().mapToLong(HistogramPointData::getCount).sum()).isEqualTo(30);
    HistogramPointData five = points.stream().filter(p -> p.getAttributes()
        .get(AttributeKey.longKey("http.response.status_code")) == 500).findFirst().orElseThrow();
    assertThat(five.getCount()).isEqualTo(10);
    assertThat(five.getAttributes().asMap().keySet().stream().map(AttributeKey::getKey).toList())
        .containsExactlyInAnyOrder("http.request.method", "http.response.status_code", "url.scheme",
            "network.protocol.version", "http.route", "error.type", "server.port", "workerman.worker.name");
    assertThat(five.getBoundaries()).isEqualTo(TelemetryNames.HTTP_SERVER_REQUEST_DURATION_BUCKETS);
  }

  @Test
  void webSocketMessagesAreCountedAndSizedByDirectionAndOpcode() {
    ConnectionEvent c = Events.serverIpv4();
    telemetry.webSocketMessage(c, true, WebSocketOpcode.TEXT, 10);
    telemetry.webSocketMessage(c, true, WebSocketOpcode.TEXT, 30);
    telemetry.webSocketMessage(c, false, WebSocketOpcode.BINARY, 70_000);
    MetricData messages = metric(TelemetryNames.WEBSOCKET_MESSAGES);
    assertThat(messages.getUnit()).isEqualTo("{message}");
    assertThat(messages.getLongSumData().getPoints()).extracting(LongPointData::getValue)
        .containsExactlyInAnyOrder(2L, 1L);
    HistogramPointData rxText = metric(TelemetryNames.WEBSOCKET_MESSAGE_SIZE).getHistogramData().getPoints().stream()
        .filter(p -> "receive".equals(p.getAttributes().get(TelemetryNames.NETWORK_IO_DIRECTION))).findFirst()
        .orElseThrow();
    assertThat(rxText.getSum()).isEqualTo(40);
    assertThat(rxText.getAttributes().get(AttributeKey.stringKey("wmscope.websocket.opcode"))).isEqualTo("text");
  }

  @Test
  void anEchoStreamKeepsItsSeriesApartWhateverTheOrder() {
    // the attribute set of the last message of each direction is reused: changes must split again
    ConnectionEvent c = Events.serverIpv4();
    for (int i = 0; i < 12; i++) {
      telemetry.webSocketMessage(c, true, i % 4 == 3 ? WebSocketOpcode.PING : WebSocketOpcode.TEXT, 5);
      telemetry.webSocketMessage(c, false, i % 4 == 3 ? WebSocketOpcode.PONG : WebSocketOpcode.TEXT, 5);
    }
    assertThat(metric(TelemetryNames.WEBSOCKET_MESSAGES).getLongSumData().getPoints())
        .extracting(p -> p.getAttributes().get(TelemetryNames.NETWORK_IO_DIRECTION) + " "
            + p.getAttributes().get(AttributeKey.stringKey("wmscope.websocket.opcode")) + "=" + p.getValue())
        .containsExactlyInAnyOrder("receive text=9", "receive ping=3", "transmit text=9", "transmit pong=3");
  }

  @Test
  void activeRequestsCountUpAndDownPerMethodAndWorker() {
    ConnectionEvent c = Events.serverIpv4();
    Object first = telemetry.requestStarted(c, "GET");
    telemetry.requestStarted(c, "GET");
    telemetry.requestStarted(c, "PURGE");
    telemetry.requestEnded(first);
    MetricData m = metric(TelemetryNames.HTTP_SERVER_ACTIVE_REQUESTS);
    assertThat(m.getUnit()).isEqualTo("{request}");
    assertThat(m.getLongSumData().isMonotonic()).isFalse();
    assertThat(m.getLongSumData().getPoints()).extracting(p -> p.getAttributes()
        .get(AttributeKey.stringKey("http.request.method")) + "=" + p.getValue())
        .containsExactlyInAnyOrder("GET=1", "_OTHER=1");
  }

  @Test
  void withoutASpanExporterNoSpansAreMadeButTheMetricsAre() {
    RequestTelemetry quiet = new RequestTelemetry(sdk.sdk, HttpRoutes.NONE, false, false, false);
    quiet.exchange(exchange("GET", "/", 200));
    assertThat(sdk.spans.getFinishedSpanItems()).isEmpty();
    assertThat(metric(TelemetryNames.HTTP_SERVER_REQUEST_DURATION).getHistogramData().getPoints())
        .extracting(HistogramPointData::getCount).containsExactly(1L);
  }

  @Test
  void routeTemplatesMatchSegmentsAndRejectBadOnes() {
    HttpRoutes r = HttpRoutes.of(List.of("/users/{id}", "/users/{id}/orders", "/static/{path...}", "/"));
    assertThat(r.match("/users/7")).isEqualTo("/users/{id}");
    assertThat(r.match("/users/7/orders")).isEqualTo("/users/{id}/orders");
    assertThat(r.match("/users/")).isNull();
    assertThat(r.match("/users")).isNull();
    assertThat(r.match("/static/css/site.css")).isEqualTo("/static/{path...}");
    assertThat(r.match("/static")).isNull();
    assertThat(r.match("/")).isEqualTo("/");
    assertThat(HttpRoutes.NONE.match("/anything")).isNull();
    assertThatThrownBy(() -> HttpRoutes.of(List.of("users/{id}"))).hasMessageContaining("must start with '/'");
    assertThatThrownBy(() -> HttpRoutes.of(List.of("/a/{id"))).hasMessageContaining("whole {name}");
    assertThatThrownBy(() -> HttpRoutes.of(List.of("/a/{rest...}/b"))).hasMessageContaining("last segment");
  }

  private MetricData metric(String name) {
    return sdk.reader.collectAllMetrics().stream().filter(m -> m.getName().equals(name)).findFirst().orElseThrow();
  }
}
