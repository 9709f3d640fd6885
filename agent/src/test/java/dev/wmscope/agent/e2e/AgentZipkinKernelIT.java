package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import dev.wmscope.loader.testing.LoopbackTraffic.Exchange;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Traces through the SDK's Zipkin exporter (OTEL_TRACES_EXPORTER=zipkin) into the real Zipkin
 * server; the test reads them back from /api/v2/traces: one span per connection, right tags.
 */
@KernelTest
class AgentZipkinKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  @Test
  void zipkinHasOneSpanPerConnectionWithTheConnectionsTags(@TempDir Path dir) throws Exception {
    int connections = 10;
    try (var zipkin = new ZipkinServer(dir); var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port()), "--service-name", "zipkin-e2e"),
            Map.of("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_EXPORTER_ZIPKIN_ENDPOINT", zipkin.spansEndpoint(),
                "OTEL_BSP_SCHEDULE_DELAY", "100"))) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), connections, 50, 13);

      Await.until(Duration.ofSeconds(30), "traces in Zipkin", () -> zipkin.traces("zipkin-e2e").size(), connections);
      Thread.sleep(500); // extra spans, if any, would arrive now
      JsonArray traces = zipkin.traces("zipkin-e2e");
      assertThat(traces).hasSize(connections);
      assertThat(traces).allSatisfy(t -> assertThat((JsonArray) t).as("spans in one trace").hasSize(1));
      Map<String, JsonObject> byClientPort = traces.stream()
          .map(t -> ((JsonArray) t).getJsonObject(0))
          .collect(Collectors.toMap(s -> s.getJsonObject("tags").getString("network.peer.port"), Function.identity()));
      for (Exchange x : truth) {
        JsonObject span = byClientPort.get(String.valueOf(x.clientPort()));
        assertThat(span).as("span for client port %d", x.clientPort()).isNotNull();
        assertThat(span.getString("kind")).isEqualTo("SERVER");
        assertThat(span.getString("name")).isEqualTo("tcp 127.0.0.1:" + server.port());
        assertThat(span.getJsonObject("localEndpoint").getString("serviceName")).isEqualTo("zipkin-e2e");
        assertThat(span.getLong("duration")).isPositive();
        JsonObject tags = span.getJsonObject("tags");
        assertThat(tags.getString("server.port")).isEqualTo(String.valueOf(server.port()));
        assertThat(tags.getString("network.transport")).isEqualTo("tcp");
        assertThat(tags.getString("wmscope.connection.side")).isEqualTo("server");
        assertThat(tags.getString("wmscope.tcp.bytes_received")).isEqualTo(String.valueOf(x.bytesSentByClient()));
        assertThat(tags.getString("wmscope.tcp.bytes_sent")).isEqualTo(String.valueOf(x.bytesSentByServer()));
      }
      assertThat(agent.stderrBeyondKernelFeatures()).noneMatch(l -> l.contains("WARN") || l.contains("ERROR"));
      assertThat(agent.terminate(15_000)).as("exit code after SIGTERM").isZero();
    }
  }
}
