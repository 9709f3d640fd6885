package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.KernelTestExtension;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request telemetry end to end: the packaged agent, the PHP stand-in's HTTP and WebSocket
 * workers (Workerman's titles, reads with recvfrom, writes with sendto), a raw client that
 * decides every byte boundary, and spans and metrics checked at the OTLP wire. Every request
 * the client made is one span with the right method, path, status, worker and connection, and
 * nothing else is.
 */
@KernelTest
class RequestTelemetryKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** The agent of the running test, whose log is printed when the test fails. */
  private AgentProcess current;

  @org.junit.jupiter.api.extension.RegisterExtension
  final org.junit.jupiter.api.extension.TestWatcher dumpAgentLog = new org.junit.jupiter.api.extension.TestWatcher() {
    @Override
    public void testFailed(org.junit.jupiter.api.extension.ExtensionContext context, Throwable cause) {
      if (current != null) {
        System.err.println("agent stderr of " + context.getDisplayName() + ":\n" + String.join("\n", current.stderr()));
      }
    }
  };

  /** What the client did: one expected span. */
  private record Sent(String method, String path, int status, int clientPort) {}

  @Test
  void everyRequestIsOneExactSpanAndWebSocketMessagesAreCountedExactly(@TempDir Path dir) throws Exception {
    int http = WorkermanStandin.freePort();
    int ws = WorkermanStandin.freePort();
    try (var receiver = new OtlpHttpReceiver();
        var app = WorkermanStandin.create(dir, List.of(
            WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1, false),
            WorkermanStandin.worker("Chat", "websocket://127.0.0.1:" + ws, 1, false)))) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      Map<String, Long> pidOf = workers.stream().collect(Collectors.toMap(
          p -> app.workerStats(p).orElseThrow().getString("name"), Integer::longValue));
      try (var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms",
          "--http-route", "/status/{code}", "--http-address", "none"), Map.of(
          "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
          "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
          "OTEL_BSP_SCHEDULE_DELAY", "100",
          "OTEL_METRIC_EXPORT_INTERVAL", "300"))) {
        current = agent;
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(http))
            && l.contains(String.valueOf(ws)), 30_000);
        List<Sent> sent = new ArrayList<>();

        // keep-alive: ten requests, one connection, one write each
        try (var c = new HttpWire(V4, http)) {
          for (int i = 0; i < 10; i++) {
            c.write(HttpWire.get("/status/20" + (i % 3) + "?i=" + i));
            assertThat(c.read().status()).isEqualTo(200 + i % 3);
            sent.add(new Sent("GET", "/status/20" + (i % 3), 200 + i % 3, c.localPort()));
          }
          // pipelined: five requests in one write, five responses
          StringBuilder five = new StringBuilder();
          for (int i = 0; i < 5; i++) {
            five.append(HttpWire.get("/p" + i));
            sent.add(new Sent("GET", "/p" + i, 404, c.localPort()));
          }
          c.write(five.toString());
          for (int i = 0; i < 5; i++) {
            assertThat(c.read().status()).isEqualTo(404);
          }
          // one request split over three writes
          String split = "POST /status/201 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n\r\nhello world";
          c.write(split.substring(0, 9));
          Thread.sleep(50);
          c.write(split.substring(9, 40));
          Thread.sleep(50);
          c.write(split.substring(40));
          assertThat(c.read().status()).isEqualTo(201);
          sent.add(new Sent("POST", "/status/201", 201, c.localPort()));
          // 1 MiB, chunked, a 500
          c.write(HttpWire.get("/bytes/1048576"));
          assertThat(c.read().bodyBytes()).isEqualTo(1 << 20);
          sent.add(new Sent("GET", "/bytes/1048576", 200, c.localPort()));
          c.write(HttpWire.get("/chunked/5"));
          assertThat(c.read().bodyBytes()).isEqualTo(5 * "chunk 0\n".length());
          sent.add(new Sent("GET", "/chunked/5", 200, c.localPort()));
          c.write(HttpWire.get("/status/500"));
          assertThat(c.read().status()).isEqualTo(500);
          sent.add(new Sent("GET", "/status/500", 500, c.localPort()));
        }
        // new connections with Connection: close
        for (int i = 0; i < 5; i++) {
          try (var c = new HttpWire(V4, http)) {
            c.write(HttpWire.get("/", "Connection: close"));
            assertThat(c.read().status()).isEqualTo(200);
            c.awaitClose();
            sent.add(new Sent("GET", "/", 200, c.localPort()));
          }
        }
        // a slow handler, and a request that joins a caller's trace
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String parentId = "00f067aa0ba902b7";
        int slowPort;
        int tracedPort;
        try (var c = new HttpWire(V4, http)) {
          c.write(HttpWire.get("/delay/300"));
          assertThat(c.read().status()).isEqualTo(200);
          sent.add(new Sent("GET", "/delay/300", 200, c.localPort()));
          slowPort = c.localPort();
        }
        try (var c = new HttpWire(V4, http)) {
          c.write(HttpWire.get("/", "traceparent: 00-" + traceId + "-" + parentId + "-01"));
          assertThat(c.read().status()).isEqualTo(200);
          sent.add(new Sent("GET", "/", 200, c.localPort()));
          tracedPort = c.localPort();
        }
        // WebSocket: the handshake (an HTTP span, 101), then messages of every length form
        int wsClientPort;
        try (var c = new HttpWire(V4, ws)) {
          c.write("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
          assertThat(c.read().status()).isEqualTo(101);
          wsClientPort = c.localPort();
          for (int size : new int[] {5, 200, 70_000}) {
            c.write(HttpWire.clientFrame(size == 70_000 ? 2 : 1, size));
            assertThat(c.readFrame()[1]).isEqualTo(size);
          }
          c.write(HttpWire.clientFrame(9, 4));
          assertThat(c.readFrame()).containsExactly(10, 4);
          c.write(HttpWire.clientFrame(8, 2));
          assertThat(c.readFrame()[0]).isEqualTo(8);
          c.awaitClose();
        }
        sent.add(new Sent("GET", "/chat", 101, wsClientPort));

        List<Span> spans = awaitHttpSpans(receiver, sent.size());
        assertThat(spans).as("one span per request, nothing else: got %s, sent %s",
            spans.stream().map(RequestTelemetryKernelIT::describe).toList(), sent).hasSize(sent.size());
        Map<String, List<Span>> byKey = spans.stream().collect(Collectors.groupingBy(
            s -> str(s, "http.request.method") + " " + str(s, "url.path") + " " + num(s, "http.response.status_code")
                + " " + num(s, "client.port")));
        for (Sent x : sent) {
          String key = x.method() + " " + x.path() + " " + x.status() + " " + x.clientPort();
          assertThat(byKey).as("span %s", key).containsKey(key);
          Span s = byKey.get(key).removeFirst();
          assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
          boolean api = x.clientPort() != wsClientPort;
          assertThat(str(s, "workerman.worker.name")).isEqualTo(api ? "Api" : "Chat");
          assertThat(num(s, "process.pid")).isEqualTo(pidOf.get(api ? "Api" : "Chat"));
          assertThat(num(s, "server.port")).isEqualTo(api ? http : ws);
          assertThat(str(s, "url.scheme")).isEqualTo("http");
          assertThat(str(s, "network.protocol.version")).isEqualTo("1.1");
          assertThat(s.getEndTimeUnixNano()).isGreaterThanOrEqualTo(s.getStartTimeUnixNano());
          assertThat(attributes(s)).doesNotContainKey("url.query");
          if (x.path().startsWith("/status/")) {
            assertThat(s.getName()).isEqualTo(x.method() + " /status/{code}");
            assertThat(str(s, "http.route")).isEqualTo("/status/{code}");
          } else {
            assertThat(s.getName()).isEqualTo(x.method());
            assertThat(attributes(s)).doesNotContainKey("http.route");
          }
          if (x.status() >= 500) {
            assertThat(s.getStatus().getCode()).isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(str(s, "error.type")).isEqualTo("500");
          } else {
            assertThat(attributes(s)).doesNotContainKey("error.type");
          }
          if (x.clientPort() == slowPort) {
            long ms = (s.getEndTimeUnixNano() - s.getStartTimeUnixNano()) / 1_000_000;
            assertThat(ms).as("the handler's 300 ms, plus a margin").isBetween(300L, 2_000L);
          }
          if (x.clientPort() == tracedPort) {
            assertThat(HexFormat.of().formatHex(s.getTraceId().toByteArray())).isEqualTo(traceId);
            assertThat(HexFormat.of().formatHex(s.getParentSpanId().toByteArray())).isEqualTo(parentId);
          } else {
            assertThat(s.getParentSpanId().isEmpty()).as("a root span without traceparent").isTrue();
          }
        }
        // each request span links to its connection's span (made at the close, with the same client port)
        Map<Long, Span> connectionSpans = receiver.spans().stream().flatMap(rs -> rs.getScopeSpansList().stream())
            .flatMap(ss -> ss.getSpansList().stream()).filter(s -> s.getName().startsWith("tcp "))
            .collect(Collectors.toMap(s -> num(s, "client.port"), s -> s, (a, b) -> a));
        for (Span s : spans) {
          Span conn = connectionSpans.get(num(s, "client.port"));
          assertThat(conn).as("connection span of client port %s", num(s, "client.port")).isNotNull();
          assertThat(s.getLinksList()).singleElement().satisfies(link -> {
            assertThat(link.getTraceId()).isEqualTo(conn.getTraceId());
            assertThat(link.getSpanId()).isEqualTo(conn.getSpanId());
          });
        }
        Span big = spans.stream().filter(s -> "/bytes/1048576".equals(str(s, "url.path"))).findFirst().orElseThrow();
        assertThat(num(big, "http.response.body.size")).isEqualTo(1 << 20);
        Span post = spans.stream().filter(s -> "POST".equals(str(s, "http.request.method"))).findFirst().orElseThrow();
        assertThat(num(post, "http.request.body.size")).isEqualTo(11);

        awaitHistogramCount(receiver, "http.server.request.duration", Map.of(), sent.size());
        awaitHistogramCount(receiver, "http.server.request.duration",
            Map.of("http.response.status_code", "500", "error.type", "500"), 1);
        awaitHistogramCount(receiver, "http.server.request.duration", Map.of("http.route", "/status/{code}"), 12);
        // WebSocket: both directions, by opcode, counts and payload sums exact
        for (String dir2 : List.of("receive", "transmit")) {
          awaitHistogram(receiver, "wmscope.websocket.message.size",
              Map.of("network.io.direction", dir2, "wmscope.websocket.opcode", "text"), 2, 205);
          awaitHistogram(receiver, "wmscope.websocket.message.size",
              Map.of("network.io.direction", dir2, "wmscope.websocket.opcode", "binary"), 1, 70_000);
          awaitHistogram(receiver, "wmscope.websocket.message.size",
              Map.of("network.io.direction", dir2, "wmscope.websocket.opcode", "close"), 1, 2);
        }
        awaitHistogram(receiver, "wmscope.websocket.message.size",
            Map.of("network.io.direction", "receive", "wmscope.websocket.opcode", "ping"), 1, 4);
        awaitHistogram(receiver, "wmscope.websocket.message.size",
            Map.of("network.io.direction", "transmit", "wmscope.websocket.opcode", "pong"), 1, 4);
        WorkermanStandin.await(WAIT, "wmscope.websocket.messages = 10", () ->
            MetricQuery.sum(receiver, "wmscope.websocket.messages", Map.of()) == 10 ? Boolean.TRUE : null);
        // every request was answered: none active, under the series each was counted up in
        WorkermanStandin.await(WAIT, "http.server.active_requests exported at 0", () ->
            !MetricQuery.latest(receiver, "http.server.active_requests").isEmpty()
                && MetricQuery.sum(receiver, "http.server.active_requests", Map.of()) == 0 ? Boolean.TRUE : null);
        assertThat(MetricQuery.latest(receiver, "http.server.active_requests"))
            .allSatisfy(p -> assertThat(p.getAsInt()).isZero());

        assertThat(agent.stderrBeyondKernelFeatures()).as("no warning or error while framing")
            .noneMatch(l -> l.contains("WARN") || l.contains("ERROR"));
        assertThat(agent.terminate(15_000)).isZero();
        assertThat(KernelTestExtension.awaitNoWmscopePrograms()).isEmpty();
      }
    }
  }

  @Test
  void aKeepAliveConnectionOpenBeforeTheAgentResyncsAndReportsTheRequestsAfterIt(@TempDir Path dir)
      throws Exception {
    int http = WorkermanStandin.freePort();
    try (var receiver = new OtlpHttpReceiver();
        var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1,
            false)))) {
      app.start(false);
      app.awaitWorkers(1, Set.of(), WAIT);
      HttpWire old = new HttpWire(V4, http);
      // requests before the agent: not its to report
      for (int i = 0; i < 3; i++) {
        old.write(HttpWire.get("/before"));
        assertThat(old.read().status()).isEqualTo(404);
      }
      try (var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms",
          "--http-address", "none"), Map.of(
          "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
          "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
          "OTEL_BSP_SCHEDULE_DELAY", "100",
          "OTEL_METRIC_EXPORT_INTERVAL", "300"))) {
        current = agent;
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(http)), 30_000);
        // adopted by the next full walk of the live reads
        WorkermanStandin.await(WAIT, "the open connection adopted", () -> MetricQuery.sum(receiver,
            "wmscope.connection.active", Map.of("server.port", String.valueOf(http))) == 1 ? Boolean.TRUE : null);
        for (int i = 0; i < 4; i++) {
          old.write(HttpWire.get("/after/" + i));
          assertThat(old.read().status()).isEqualTo(404);
        }
        old.close();
        List<Span> spans = awaitHttpSpans(receiver, 4);
        assertThat(spans.stream().map(s -> str(s, "url.path")).toList())
            .as("the requests after adoption, each once, none from before")
            .containsExactlyInAnyOrder("/after/0", "/after/1", "/after/2", "/after/3");
        assertThat(spans).allSatisfy(s -> assertThat(num(s, "client.port")).isEqualTo(old.localPort()));
        assertThat(agent.terminate(15_000)).isZero();
      }
    }
  }

  @Test
  void theRealPrometheusScrapesTheHttpAndWebSocketMetricsUnderTheirPrometheusNames(@TempDir Path dir)
      throws Exception {
    assertThat(PrometheusServer.installed()).as("%s (apt-get install prometheus)", PrometheusServer.BINARY).isTrue();
    int http = WorkermanStandin.freePort();
    int ws = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(Files.createDirectories(dir.resolve("app")), List.of(
        WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1, false),
        WorkermanStandin.worker("Chat", "websocket://127.0.0.1:" + ws, 1, false)))) {
      app.start(false);
      app.awaitWorkers(2, Set.of(), WAIT);
      try (var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms",
          "--http-route", "/status/{code}"), Map.of())) {
        current = agent;
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(http))
            && l.contains(String.valueOf(ws)), 30_000);
        int httpPort = agent.httpPort(5_000);
        try (var prometheus = new PrometheusServer(Files.createDirectories(dir.resolve("prom")),
            "127.0.0.1:" + httpPort)) {
          Await.until(WAIT, "scrape target health", prometheus::targetHealth, "up");
          try (var c = new HttpWire(V4, http)) {
            for (int i = 0; i < 7; i++) {
              c.write(HttpWire.get("/status/" + (i < 5 ? 200 : 503)));
              c.read();
            }
          }
          try (var c = new HttpWire(V4, ws)) {
            c.write("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            c.read();
            for (int i = 0; i < 3; i++) {
              c.write(HttpWire.clientFrame(1, 10));
              c.readFrame();
            }
          }
          String port = "server_port=\"" + http + "\"";
          awaitValue(prometheus, "sum(http_server_request_duration_seconds_count{" + port + "})", 7);
          awaitValue(prometheus, "sum(http_server_request_duration_seconds_count{" + port
              + ",http_route=\"/status/{code}\",http_response_status_code=\"503\",error_type=\"503\"})", 2);
          awaitValue(prometheus, "sum(http_server_request_duration_seconds_bucket{" + port + ",le=\"+Inf\"})", 7);
          String wsPort = "server_port=\"" + ws + "\"";
          awaitValue(prometheus, "sum(wmscope_websocket_messages_total{" + wsPort
              + ",network_io_direction=\"receive\",wmscope_websocket_opcode=\"text\"})", 3);
          awaitValue(prometheus, "sum(wmscope_websocket_message_size_bytes_sum{" + wsPort
              + ",network_io_direction=\"transmit\"})", 30);
          // the API, the status text and `wmscope requests` on the same traffic
          var workersDoc = CliRun.json(httpPort, "/api/workers");
          var api = workersDoc.getJsonArray("workers").stream().map(o -> (io.vertx.core.json.JsonObject) o)
              .filter(w -> "Api".equals(w.getString("name"))).findFirst().orElseThrow();
          assertThat(api.getLong("requests")).isEqualTo(7);
          assertThat(api.getLong("errors_5xx")).isEqualTo(2);
          assertThat(api.getDouble("requests_per_s")).isPositive();
          assertThat(api.getDouble("request_p99_ms")).isPositive();
          var chat = workersDoc.getJsonArray("workers").stream().map(o -> (io.vertx.core.json.JsonObject) o)
              .filter(w -> "Chat".equals(w.getString("name"))).findFirst().orElseThrow();
          assertThat(chat.getLong("websocket_messages")).as("3 received, 3 echoed").isEqualTo(6);
          var recent = CliRun.json(httpPort, "/api/requests").getJsonArray("requests");
          assertThat(recent.stream().map(o -> ((io.vertx.core.json.JsonObject) o).getInteger("status")).toList())
              .as("the failed requests, newest first").containsExactly(503, 503);
          assertThat(CliRun.json(httpPort, "/api/agent").getJsonObject("requests").getLong("exchanges"))
              .as("7 requests and the handshake").isEqualTo(8);
          var cli = CliRun.wmscope(List.of("requests", "--http-address", "127.0.0.1:" + httpPort), Map.of(),
              Duration.ofSeconds(30));
          assertThat(cli.exit()).as(cli.toString()).isZero();
          assertThat(cli.stdout()).contains("/status/503").contains("503").contains("Api").contains("2 requests");
          var status = CliRun.wmscope(List.of("status", "--http-address", "127.0.0.1:" + httpPort), Map.of(),
              Duration.ofSeconds(30));
          assertThat(status.stdout()).contains("REQUESTS (last minute)");
          // labels: never a path, a client address or port (cardinality)
          assertThat(prometheus.query("http_server_request_duration_seconds_count{" + port + "}")).isNotEmpty()
              .allSatisfy(series -> assertThat(series.getJsonObject("metric").fieldNames())
                  .contains("http_request_method", "http_response_status_code", "url_scheme",
                      "network_protocol_version", "workerman_worker_name")
                  .doesNotContain("url_path", "client_address", "client_port", "process_pid"));
        }
        assertThat(agent.terminate(15_000)).isZero();
      }
    }
  }

  private static void awaitValue(PrometheusServer prometheus, String promql, long expected) throws InterruptedException {
    Await.until(WAIT, promql, () -> prometheus.value(promql).map(Math::round).orElse(null), expected);
  }

  private static String describe(Span s) {
    return str(s, "http.request.method") + " " + str(s, "url.path") + " " + num(s, "http.response.status_code")
        + " " + num(s, "client.port") + (str(s, "error.type") == null ? "" : " " + str(s, "error.type"));
  }

  private static Map<String, KeyValue> attributes(Span s) {
    return s.getAttributesList().stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv, (a, b) -> a));
  }

  private static String str(Span s, String key) {
    KeyValue kv = attributes(s).get(key);
    return kv == null ? null : kv.getValue().getStringValue();
  }

  private static Long num(Span s, String key) {
    KeyValue kv = attributes(s).get(key);
    return kv == null ? null : kv.getValue().getIntValue();
  }

  private static List<Span> awaitHttpSpans(OtlpHttpReceiver receiver, int count) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline && httpSpans(receiver).size() < count) {
      Thread.sleep(100);
    }
    Thread.sleep(500); // more, if any, would arrive now
    return httpSpans(receiver);
  }

  private static List<Span> httpSpans(OtlpHttpReceiver receiver) {
    return receiver.spans().stream().flatMap(rs -> rs.getScopeSpansList().stream())
        .flatMap(ss -> ss.getSpansList().stream())
        .filter(s -> s.getAttributesList().stream().anyMatch(kv -> kv.getKey().equals("http.request.method")))
        .toList();
  }

  /** The histogram's points in the newest export that carry every attribute of {@code where}. */
  private static List<HistogramDataPoint> histogramPoints(OtlpHttpReceiver receiver, String name,
      Map<String, String> where) {
    var all = receiver.metrics();
    for (int i = all.size() - 1; i >= 0; i--) {
      List<Metric> found = all.get(i).getScopeMetricsList().stream().flatMap(sm -> sm.getMetricsList().stream())
          .filter(m -> m.getName().equals(name)).toList();
      if (!found.isEmpty()) {
        return found.stream().flatMap(m -> m.getHistogram().getDataPointsList().stream())
            .filter(p -> where.entrySet().stream().allMatch(e -> p.getAttributesList().stream()
                .anyMatch(kv -> kv.getKey().equals(e.getKey()) && (kv.getValue().getStringValue().equals(e.getValue())
                    || String.valueOf(kv.getValue().getIntValue()).equals(e.getValue())))))
            .toList();
      }
    }
    return List.of();
  }

  private static void awaitHistogramCount(OtlpHttpReceiver receiver, String name, Map<String, String> where,
      long count) throws InterruptedException {
    long[] last = {-1};
    try {
      WorkermanStandin.await(WAIT, name + " count " + count + " " + where, () -> {
        last[0] = histogramPoints(receiver, name, where).stream().mapToLong(HistogramDataPoint::getCount).sum();
        return last[0] == count ? Boolean.TRUE : null;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(name + " " + where + ": count " + last[0] + ", expected " + count, e);
    }
  }

  private static void awaitHistogram(OtlpHttpReceiver receiver, String name, Map<String, String> where, long count,
      double sum) throws InterruptedException {
    String[] last = {""};
    try {
      WorkermanStandin.await(WAIT, name + " " + where, () -> {
        List<HistogramDataPoint> p = histogramPoints(receiver, name, where);
        long n = p.stream().mapToLong(HistogramDataPoint::getCount).sum();
        double s = p.stream().mapToDouble(HistogramDataPoint::getSum).sum();
        last[0] = "count " + n + " sum " + s;
        return n == count && s == sum ? Boolean.TRUE : null;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(name + " " + where + ": " + last[0] + ", expected count " + count + " sum " + sum, e);
    }
  }
}
