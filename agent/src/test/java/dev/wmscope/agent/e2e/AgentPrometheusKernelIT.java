package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import dev.wmscope.loader.testing.LoopbackTraffic.Exchange;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Prometheus server (the Debian package) scrapes the agent's /metrics on loopback; the
 * test asks Prometheus's HTTP API for the series and checks them against the traffic it drove.
 * No OTLP endpoint is configured: the Prometheus endpoint works on its own.
 */
@KernelTest
class AgentPrometheusKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30);

  @BeforeAll
  static void prometheusInstalled() {
    assertThat(PrometheusServer.installed()).as("%s (apt-get install prometheus)", PrometheusServer.BINARY).isTrue();
  }

  @Test
  void prometheusScrapesExactConnectionAndByteCounts(@TempDir Path dir) throws Exception {
    int connections = 15;
    try (var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port()),
            "--service-name", "prom-e2e"), Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      int httpPort = agent.httpPort(5_000);
      try (var prometheus = new PrometheusServer(dir, "127.0.0.1:" + httpPort)) {
        Await.until(WAIT, "scrape target health", prometheus::targetHealth, "up");

        List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), connections, 200, 11);
        long bytesIn = truth.stream().mapToLong(Exchange::bytesSentByClient).sum();
        long bytesOut = truth.stream().mapToLong(Exchange::bytesSentByServer).sum();
        String port = "server_port=\"" + server.port() + "\"";

        awaitValue(prometheus, "sum(wmscope_connection_closed_total{" + port + "})", connections);
        awaitValue(prometheus, "sum(wmscope_connection_opened_total{" + port + "})", connections);
        awaitValue(prometheus, "sum(wmscope_connection_active{" + port + "})", 0);
        awaitValue(prometheus, "sum(wmscope_network_io_bytes_total{" + port + ",network_io_direction=\"receive\"})", bytesIn);
        awaitValue(prometheus, "sum(wmscope_network_io_bytes_total{" + port + ",network_io_direction=\"transmit\"})", bytesOut);
        awaitValue(prometheus, "sum(wmscope_connection_duration_seconds_count{" + port + "})", connections);

        // the series' labels: the OTel attributes under Prometheus names, never a client port
        List<JsonObject> closed = prometheus.query("wmscope_connection_closed_total{" + port + "}");
        assertThat(closed).isNotEmpty().allSatisfy(series -> {
          JsonObject labels = series.getJsonObject("metric");
          assertThat(labels.getString("job")).isEqualTo("wmscope");
          assertThat(labels.getString("wmscope_connection_side")).isEqualTo("server");
          assertThat(labels.getString("network_type")).isEqualTo("ipv4");
          assertThat(labels.getString("otel_scope_name")).isEqualTo("dev.wmscope");
          assertThat(labels.fieldNames()).noneMatch(k -> k.contains("client") || k.contains("peer"));
        });
        // the kernel's skipped program runs are exported from the first live read on (0 until one)
        assertThat(prometheus.query("wmscope_probe_skipped_runs_total")).as("skipped-runs series").isNotEmpty();
        // the resource arrives as target_info
        List<JsonObject> info = prometheus.query("target_info{job=\"wmscope\"}");
        assertThat(info).singleElement().satisfies(series -> {
          assertThat(series.getJsonObject("metric").getString("service_name")).isEqualTo("prom-e2e");
          assertThat(series.getJsonObject("metric").getString("service_instance_id")).isNotBlank();
        });
      }
      assertThat(agent.terminate(15_000)).as("exit code after SIGTERM").isZero();
    }
  }

  private static void awaitValue(PrometheusServer prometheus, String promql, long expected) throws InterruptedException {
    Await.until(WAIT, promql, () -> prometheus.value(promql).map(Math::round).orElse(null), expected);
  }
}
