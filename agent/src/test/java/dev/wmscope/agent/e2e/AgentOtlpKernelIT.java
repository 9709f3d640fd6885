package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.BpfSystem;
import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.KernelTestExtension;
import dev.wmscope.loader.testing.LoopbackTraffic;
import dev.wmscope.loader.testing.LoopbackTraffic.Exchange;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent as a process, against a real loopback server: spans and metrics checked at
 * the OTLP/HTTP wire with opentelemetry-proto, JSON lines on stdout, and a clean SIGTERM stop
 * that leaves nothing attached.
 */
@KernelTest
class AgentOtlpKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final int CONNECTIONS = 20;

  @Test
  void spansAndMetricsArriveAtTheOtlpWireWithExactCounts() throws Exception {
    try (var receiver = new OtlpHttpReceiver(); var server = new LoopbackTraffic.Server(V4)) {
      Map<String, String> env = Map.of(
          "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
          "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
          "OTEL_SERVICE_NAME", "wmscope-e2e",
          "OTEL_BSP_SCHEDULE_DELAY", "100",
          "OTEL_METRIC_EXPORT_INTERVAL", "300");
      try (var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port()), "--format", "json"), env)) {
        agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);

        List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), CONNECTIONS, 300, 29);

        List<Span> spans = awaitSpans(receiver, CONNECTIONS);
        assertThat(spans).hasSize(CONNECTIONS);
        Map<Long, Span> byClientPort =
            spans.stream().collect(Collectors.toMap(s -> longAttr(s, "network.peer.port"), Function.identity()));
        for (Exchange x : truth) {
          Span s = byClientPort.get((long) x.clientPort());
          assertThat(s).as("span for client port %d", x.clientPort()).isNotNull();
          assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
          assertThat(s.getName()).isEqualTo("tcp 127.0.0.1:" + server.port());
          assertThat(s.getEndTimeUnixNano()).isGreaterThan(s.getStartTimeUnixNano());
          assertThat(longAttr(s, "server.port")).isEqualTo(server.port());
          assertThat(stringAttr(s, "network.transport")).isEqualTo("tcp");
          assertThat(stringAttr(s, "network.type")).isEqualTo("ipv4");
          assertThat(stringAttr(s, "wmscope.connection.side")).isEqualTo("server");
          assertThat(longAttr(s, "wmscope.tcp.bytes_received")).isEqualTo(x.bytesSentByClient());
          assertThat(longAttr(s, "wmscope.tcp.bytes_sent")).isEqualTo(x.bytesSentByServer());
        }
        assertThat(receiver.spans().getFirst().getResource().getAttributesList())
            .anySatisfy(kv -> {
              assertThat(kv.getKey()).isEqualTo("service.name");
              assertThat(kv.getValue().getStringValue()).isEqualTo("wmscope-e2e");
            });

        long bytesIn = truth.stream().mapToLong(Exchange::bytesSentByClient).sum();
        long bytesOut = truth.stream().mapToLong(Exchange::bytesSentByServer).sum();
        awaitMetric(receiver, "wmscope.connection.closed", CONNECTIONS, null);
        awaitMetric(receiver, "wmscope.network.io", bytesIn, "receive");
        awaitMetric(receiver, "wmscope.network.io", bytesOut, "transmit");

        // the same connections as JSON lines on stdout, keys equal to the span attributes
        List<JsonObject> lines = agent.stdout().stream().map(JsonObject::new).toList();
        assertThat(lines).hasSize(CONNECTIONS);
        assertThat(lines).allSatisfy(j -> {
          assertThat(j.fieldNames()).contains("network.peer.address", "network.peer.port", "server.address",
              "server.port", "network.type", "wmscope.connection.side", "wmscope.tcp.bytes_received",
              "wmscope.tcp.bytes_sent", "wmscope.tcp.rtt_us", "wmscope.tcp.retransmits",
              "wmscope.connection.duration_ms", "start_time", "end_time");
          assertThat(j.getString("start_time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
        });
        assertThat(lines.stream().mapToLong(j -> j.getLong("wmscope.tcp.bytes_received")).sum()).isEqualTo(bytesIn);

        assertThat(agent.terminate(15_000)).as("exit code after SIGTERM").isZero();
        assertThat(KernelTestExtension.awaitNoWmscopePrograms()).as("programs left after the agent stopped").isEmpty();
      }
    }
  }

  @Test
  void sigkillLeavesNoProgramAttached() throws Exception {
    try (var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port())), Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      assertThat(BpfSystem.wmscopePrograms()).isNotEmpty();
      agent.kill();
      // links and programs are released with the process's file descriptors
      assertThat(KernelTestExtension.awaitNoWmscopePrograms()).isEmpty();
    }
  }

  private static List<Span> awaitSpans(OtlpHttpReceiver receiver, int count) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    List<Span> spans = List.of();
    while (System.currentTimeMillis() < deadline) {
      spans = receiver.spans().stream()
          .flatMap(rs -> rs.getScopeSpansList().stream())
          .flatMap(ss -> ss.getSpansList().stream())
          .toList();
      if (spans.size() >= count) {
        break;
      }
      Thread.sleep(100);
    }
    Thread.sleep(300); // extra spans, if any, would arrive now
    return receiver.spans().stream()
        .flatMap(rs -> rs.getScopeSpansList().stream())
        .flatMap(ss -> ss.getSpansList().stream())
        .toList();
  }

  /** Waits until the newest export of a cumulative counter sums to the expected value. */
  private static void awaitMetric(OtlpHttpReceiver receiver, String name, long expected, String direction)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    long last = -1;
    while (System.currentTimeMillis() < deadline) {
      List<Metric> exports = receiver.metrics().stream()
          .flatMap(rm -> rm.getScopeMetricsList().stream())
          .flatMap(sm -> sm.getMetricsList().stream())
          .filter(m -> m.getName().equals(name))
          .toList();
      if (!exports.isEmpty()) {
        Metric newest = exports.getLast();
        assertThat(newest.getSum().getIsMonotonic()).isTrue();
        last = newest.getSum().getDataPointsList().stream()
            .filter(p -> direction == null || p.getAttributesList().stream()
                .anyMatch(kv -> kv.getKey().equals("network.io.direction")
                    && kv.getValue().getStringValue().equals(direction)))
            .mapToLong(p -> p.getAsInt())
            .sum();
        if (last == expected) {
          return;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("metric " + name + (direction == null ? "" : " " + direction)
        + " reached " + last + ", expected " + expected);
  }

  private static AnyValue attr(Span s, String key) {
    return s.getAttributesList().stream().filter(kv -> kv.getKey().equals(key)).map(KeyValue::getValue)
        .findFirst().orElseThrow(() -> new AssertionError("span has no attribute " + key));
  }

  private static long longAttr(Span s, String key) {
    return attr(s, key).getIntValue();
  }

  private static String stringAttr(Span s, String key) {
    return attr(s, key).getStringValue();
  }
}
