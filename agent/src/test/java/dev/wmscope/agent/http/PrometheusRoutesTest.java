package dev.wmscope.agent.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP server with the Prometheus route, over real loopback HTTP. */
class PrometheusRoutesTest {
  private final Vertx vertx = Vertx.vertx();
  private final PrometheusMetricReader reader = PrometheusMetricReader.builder().build();
  private final SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(reader).build();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void close() throws Exception {
    meters.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpServerVerticle deploy(HttpAddress address) throws Exception {
    HttpServerVerticle server = new HttpServerVerticle(address, List.of(new PrometheusRoutes(reader)));
    vertx.deployVerticle(server).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return server;
  }

  private HttpResponse<String> get(int port, String path, String accept) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5));
    if (accept != null) {
      req.header("Accept", accept);
    }
    // the JDK client asks for an h2c upgrade by default; the server must answer plain HTTP/1.1
    HttpResponse<String> r = client.sendAsync(req.build(), HttpResponse.BodyHandlers.ofString()).get(10, TimeUnit.SECONDS);
    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    return r;
  }

  @Test
  void metricsAreServedWithPrometheusNames() throws Exception {
    var meter = meters.get("dev.wmscope");
    Attributes port = Attributes.of(AttributeKey.longKey("server.port"), 8080L);
    meter.counterBuilder("wmscope.connection.opened").setUnit("{connection}").build().add(3, port);
    meter.counterBuilder("wmscope.network.io").setUnit("By").build()
        .add(1234, port.toBuilder().put("network.io.direction", "receive").build());
    meter.upDownCounterBuilder("wmscope.connection.active").setUnit("{connection}").build().add(2, port);

    HttpServerVerticle server = deploy(new HttpAddress("127.0.0.1", 0));
    assertThat(server.actualPort()).isPositive();

    HttpResponse<String> text = get(server.actualPort(), "/metrics", null);
    assertThat(text.statusCode()).isEqualTo(200);
    assertThat(text.headers().firstValue("Content-Type")).contains("text/plain; version=0.0.4; charset=utf-8");
    assertThat(text.body().lines())
        .anyMatch(l -> l.matches("wmscope_connection_opened_total\\{otel_scope_name=\"dev.wmscope\",.*server_port=\"8080\"} 3\\.0"))
        .anyMatch(l -> l.matches("wmscope_network_io_bytes_total\\{network_io_direction=\"receive\",otel_scope_name=\"dev.wmscope\",.*server_port=\"8080\"} 1234\\.0"))
        .anyMatch(l -> l.matches("wmscope_connection_active\\{otel_scope_name=\"dev.wmscope\",.*server_port=\"8080\"} 2\\.0"))
        .contains("# TYPE wmscope_connection_opened_total counter", "# TYPE wmscope_connection_active gauge");

    // what Prometheus itself asks for
    HttpResponse<String> om = get(server.actualPort(), "/metrics",
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
    assertThat(om.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/openmetrics-text");
    assertThat(om.body()).contains("# TYPE wmscope_connection_opened counter").endsWith("# EOF\n");

    assertThat(get(server.actualPort(), "/nothing-here", null).statusCode()).isEqualTo(404);
  }

  @Test
  void aTakenPortFailsTheStartWithAHint() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      assertThatThrownBy(() -> deploy(new HttpAddress("127.0.0.1", taken.getLocalPort())))
          .isInstanceOf(ExecutionException.class)
          .rootCause().hasMessageContaining("Address already in use");
      assertThatThrownBy(() -> deploy(new HttpAddress("127.0.0.1", taken.getLocalPort())))
          .cause().hasMessageStartingWith("listen on 127.0.0.1:" + taken.getLocalPort() + ": ")
          .hasMessageContaining("--http-address");
    }
  }
}
