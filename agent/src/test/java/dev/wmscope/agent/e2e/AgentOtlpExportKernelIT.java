package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import dev.wmscope.loader.testing.LoopbackTraffic.Exchange;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packaged agent exporting over OTLP/gRPC and OTLP/HTTP to receivers that decode the wire
 * with opentelemetry-proto: exact span and metric counts against loopback traffic whose bytes
 * the test knows, the resource, and the sampler's ratio and "slow always" rule end to end.
 */
@KernelTest
class AgentOtlpExportKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** gRPC is configured with wmscope's flags, HTTP with the standard variables: both paths checked. */
  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void spansAndMetricsArriveWithExactCounts(String protocol) throws Exception {
    int connections = 12;
    String service = "otlp-" + protocol.replace('/', '-');
    try (OtlpReceiver receiver = protocol.equals("grpc") ? new OtlpGrpcReceiver() : new OtlpHttpReceiver();
        var server = new LoopbackTraffic.Server(V4)) {
      List<String> args = new ArrayList<>(List.of("run", "--port", String.valueOf(server.port())));
      Map<String, String> env;
      if (protocol.equals("grpc")) {
        args.addAll(List.of("--otlp-endpoint", receiver.endpoint(), "--otlp-protocol", "grpc",
            "--span-export-delay", "100ms", "--metric-export-interval", "300ms", "--service-name", service));
        env = Map.of();
      } else {
        env = Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL", protocol,
            "OTEL_BSP_SCHEDULE_DELAY", "100", "OTEL_METRIC_EXPORT_INTERVAL", "300", "OTEL_SERVICE_NAME", service);
      }
      try (var agent = new AgentProcess(args, env)) {
        agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
        List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), connections, 100, 37);

        List<Span> spans = awaitSpans(receiver, connections);
        assertThat(spans).hasSize(connections);
        Map<Long, Span> byClientPort = spans.stream()
            .collect(Collectors.toMap(s -> longAttr(s.getAttributesList(), "network.peer.port"), Function.identity()));
        for (Exchange x : truth) {
          Span s = byClientPort.get((long) x.clientPort());
          assertThat(s).as("span for client port %d", x.clientPort()).isNotNull();
          assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
          assertThat(s.getName()).isEqualTo("tcp 127.0.0.1:" + server.port());
          assertThat(longAttr(s.getAttributesList(), "wmscope.tcp.bytes_received")).isEqualTo(x.bytesSentByClient());
          assertThat(longAttr(s.getAttributesList(), "wmscope.tcp.bytes_sent")).isEqualTo(x.bytesSentByServer());
        }

        Resource resource = receiver.spans().getFirst().getResource();
        assertThat(stringAttr(resource.getAttributesList(), "service.name")).isEqualTo(service);
        assertThat(stringAttr(resource.getAttributesList(), "host.name"))
            .isEqualTo(Files.readString(Path.of("/proc/sys/kernel/hostname")).strip());
        String instance = stringAttr(resource.getAttributesList(), "service.instance.id");
        assertThat(UUID.fromString(instance)).isNotNull();

        String port = String.valueOf(server.port());
        long bytesIn = truth.stream().mapToLong(Exchange::bytesSentByClient).sum();
        long bytesOut = truth.stream().mapToLong(Exchange::bytesSentByServer).sum();
        awaitSum(receiver, "wmscope.connection.opened", Map.of("server.port", port), connections);
        awaitSum(receiver, "wmscope.connection.closed", Map.of("server.port", port), connections);
        awaitSum(receiver, "wmscope.network.io", Map.of("server.port", port, "network.io.direction", "receive"), bytesIn);
        awaitSum(receiver, "wmscope.network.io", Map.of("server.port", port, "network.io.direction", "transmit"), bytesOut);
        // one agent, one resource: metrics carry the same instance id as spans
        assertThat(receiver.metrics().getLast().getResource().getAttributesList())
            .anySatisfy(kv -> assertThat(kv.getKey() + "=" + kv.getValue().getStringValue())
                .isEqualTo("service.instance.id=" + instance));

        assertThat(agent.stderrBeyondKernelFeatures()).noneMatch(l -> l.contains("WARN") || l.contains("ERROR"));
        assertThat(agent.terminate(15_000)).as("exit code after SIGTERM").isZero();
      }
    }
  }

  @Test
  void ratioZeroStillExportsEverySlowConnectionAndCountsAll() throws Exception {
    int fast = 10;
    int slow = 3;
    try (var receiver = new OtlpHttpReceiver(); var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port()),
            "--otlp-endpoint", receiver.endpoint(), "--span-export-delay", "100ms", "--metric-export-interval", "300ms",
            "--trace-sample-ratio", "0", "--trace-slow-threshold", "300ms"), Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      LoopbackTraffic.exchanges(V4, server.port(), fast, 64, 2);
      List<Integer> slowPorts = new ArrayList<>();
      for (int i = 0; i < slow; i++) {
        slowPorts.add(slowExchange(server.port(), 500));
      }

      // every connection is counted in metrics, whatever is sampled
      awaitSum(receiver, "wmscope.connection.closed", Map.of("server.port", String.valueOf(server.port())), fast + slow);
      List<Span> spans = awaitSpans(receiver, slow);
      assertThat(spans).hasSize(slow);
      assertThat(spans).extracting(s -> (int) longAttr(s.getAttributesList(), "network.peer.port"))
          .containsExactlyInAnyOrderElementsOf(slowPorts);
      assertThat(spans).allSatisfy(s -> assertThat(
          s.getAttributesList().stream().filter(kv -> kv.getKey().equals("wmscope.connection.duration_ms"))
              .findFirst().orElseThrow().getValue().getDoubleValue()).isGreaterThanOrEqualTo(300.0));
    }
  }

  /** An exchange whose connection stays open {@code holdMillis} before the request; returns the client port. */
  private static int slowExchange(int port, long holdMillis) throws IOException, InterruptedException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(10_000);
      s.connect(new InetSocketAddress(V4, port), 5_000);
      Thread.sleep(holdMillis);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(9);
      out.write(new byte[9]);
      out.flush();
      InputStream in = s.getInputStream();
      while (in.read(new byte[256]) >= 0) {
        // the server replies and closes (odd payload)
      }
      return s.getLocalPort();
    }
  }

  /** Waits for at least {@code count} spans, then a little longer, and returns all of them. */
  static List<Span> awaitSpans(OtlpReceiver receiver, int count) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline && receiver.allSpans().size() < count) {
      Thread.sleep(100);
    }
    Thread.sleep(500); // extra spans, if any, would arrive now
    return receiver.allSpans();
  }

  /** Waits until the newest export of a cumulative counter, over matching points, sums to {@code expected}. */
  static void awaitSum(OtlpReceiver receiver, String name, Map<String, String> where, long expected)
      throws InterruptedException {
    Await.until(WAIT, "metric " + name + " " + where, () -> sum(receiver.newest(name), where), expected);
  }

  static Long sum(Metric m, Map<String, String> where) {
    if (m == null) {
      return null;
    }
    assertThat(m.getSum().getIsMonotonic()).as("%s is a counter", m.getName()).isTrue();
    return m.getSum().getDataPointsList().stream()
        .filter(p -> where.entrySet().stream().allMatch(e -> p.getAttributesList().stream()
            .anyMatch(kv -> kv.getKey().equals(e.getKey()) && text(kv.getValue()).equals(e.getValue()))))
        .mapToLong(p -> p.getAsInt())
        .sum();
  }

  private static String text(AnyValue v) {
    return switch (v.getValueCase()) {
      case INT_VALUE -> Long.toString(v.getIntValue());
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      default -> v.getStringValue();
    };
  }

  static AnyValue attr(List<KeyValue> attributes, String key) {
    return attributes.stream().filter(kv -> kv.getKey().equals(key)).map(KeyValue::getValue)
        .findFirst().orElseThrow(() -> new AssertionError("no attribute " + key + " in " + attributes));
  }

  static long longAttr(List<KeyValue> attributes, String key) {
    return attr(attributes, key).getIntValue();
  }

  static String stringAttr(List<KeyValue> attributes, String key) {
    return attr(attributes, key).getStringValue();
  }
}
