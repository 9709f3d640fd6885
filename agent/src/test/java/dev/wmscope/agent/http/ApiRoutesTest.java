package dev.wmscope.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.api.StatusSource;
import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.agent.probe.TrafficStats;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The API, health and page routes over real loopback HTTP, with a fake agent. */
class ApiRoutesTest {
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<String> notReady = new ArrayList<>(List.of("BPF programs not attached yet"));
  private int port;

  private final StatusSource source = new StaticStatusSource() {
    @Override
    public LiveState.View view() {
      return new LiveState.View(0, List.of(), List.of(), List.of(), List.of(), Map.of("ringbuf_full", 0L),
          TrafficStats.Snapshot.EMPTY);
    }

    @Override
    public List<String> notReady() {
      return List.copyOf(notReady);
    }

    @Override
    public Map<KernelFeature, FeatureStatus> kernelFeatures() {
      return Map.of(KernelFeature.TRACKED_ITER, FeatureStatus.lost(KernelFeature.TRACKED_ITER, "turned off"),
          KernelFeature.RESET_MARKS, FeatureStatus.ok(KernelFeature.RESET_MARKS));
    }
  };

  @BeforeEach
  void start() throws Exception {
    HttpServerVerticle server = new HttpServerVerticle(new HttpAddress("127.0.0.1", 0),
        List.of(new ApiRoutes(source), new PageRoutes()));
    vertx.deployVerticle(server).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = server.actualPort();
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void healthIsAlwaysOkAndReadinessWaitsForTheAgent() throws Exception {
    HttpResponse<String> health = get("/healthz");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(health.body()).getString("status")).isEqualTo("ok");

    HttpResponse<String> starting = get("/readyz");
    assertThat(starting.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(starting.body()).getJsonArray("not_ready")).containsExactly("BPF programs not attached yet");

    notReady.clear();
    HttpResponse<String> ready = get("/readyz");
    assertThat(ready.statusCode()).as("a degraded kernel feature does not make the agent unready").isEqualTo(200);
    assertThat(new JsonObject(ready.body()).getString("status")).isEqualTo("ready");
    assertThat(new JsonObject(ready.body()).getJsonArray("degraded_features")).containsExactly("tracked_iter");
  }

  @Test
  void apiDocumentsAreJson() throws Exception {
    for (String path : List.of("/api/status", "/api/workers", "/api/listeners", "/api/connections", "/api/top",
        "/api/history", "/api/agent")) {
      HttpResponse<String> r = get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).as(path).contains("application/json; charset=utf-8");
      assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
      assertThat(new JsonObject(r.body()).isEmpty()).as(path).isFalse();
    }
    assertThat(new JsonObject(get("/api/agent").body()).getBoolean("ready")).isFalse();
  }

  @Test
  void badQueryParametersAre400WithTheReason() throws Exception {
    HttpResponse<String> r = get("/api/connections?limit=lots");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("limit lots: not a number");
    assertThat(new JsonObject(get("/api/connections?port=70000").body()).getString("error")).contains("port 70000");
    assertThat(get("/api/connections?sort=size").statusCode()).isEqualTo(400);
    assertThat(get("/api/top?limit=0").statusCode()).isEqualTo(400);
  }

  @Test
  void thePageAndItsAssetsAreServedFromTheJar() throws Exception {
    HttpResponse<String> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'self'");
    assertThat(page.body()).contains("<script src=\"app.js\"></script>").doesNotContain("http://", "https://");
    HttpResponse<String> js = get("/app.js");
    assertThat(js.headers().firstValue("Content-Type")).contains("text/javascript; charset=utf-8");
    assertThat(js.body()).contains("/api/status").doesNotContain("https://");
    assertThat(get("/style.css").statusCode()).isEqualTo(200);
    assertThat(get("/favicon.svg").headers().firstValue("Content-Type")).contains("image/svg+xml");
  }
}
