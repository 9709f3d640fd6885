package dev.wmscope.agent.e2e;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Debian {@code prometheus} server as a child process: its own loopback port, a temporary
 * storage directory, and a config that scrapes one target every 500 ms. {@link #close()} kills
 * it and waits.
 */
final class PrometheusServer implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/prometheus");

  private final Process process;
  private final int port;
  private final Path log;

  /** Whether the Debian package is installed (apt-get install prometheus). */
  static boolean installed() {
    return Files.isExecutable(BINARY);
  }

  PrometheusServer(Path dir, String target) throws IOException, InterruptedException {
    port = dev.wmscope.agent.discovery.WorkermanStandin.freePort();
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, """
        global:
          scrape_interval: 500ms
          scrape_timeout: 400ms
        scrape_configs:
          - job_name: wmscope
            static_configs:
              - targets: ['%s']
        """.formatted(target));
    log = dir.resolve("prometheus.log");
    process = new ProcessBuilder(BINARY.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
        "--log.level=warn")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Await.until(Duration.ofSeconds(30), "prometheus ready on port " + port, () -> {
      if (!process.isAlive()) {
        throw new AssertionError("prometheus exited: " + logText());
      }
      return get("/-/ready").statusCode();
    }, 200);
  }

  private HttpResponse<String> get(String pathAndQuery) {
    return Http.get(URI.create("http://127.0.0.1:" + port + pathAndQuery));
  }

  /** The result vector of an instant query through the HTTP API ({@code /api/v1/query}). */
  List<JsonObject> query(String promql) {
    HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    JsonObject body = new JsonObject(r.body());
    if (!"success".equals(body.getString("status"))) {
      throw new IllegalStateException("query " + promql + ": " + r.body());
    }
    JsonArray result = body.getJsonObject("data").getJsonArray("result");
    return result.stream().map(JsonObject.class::cast).toList();
  }

  /** The single value of a query that yields one series, or empty when it yields none. */
  Optional<Double> value(String promql) {
    List<JsonObject> r = query(promql);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    if (r.size() > 1) {
      throw new AssertionError(promql + " yields " + r.size() + " series: " + r);
    }
    return Optional.of(Double.parseDouble(r.getFirst().getJsonArray("value").getString(1)));
  }

  /** Health of the one scrape target ("up", "down", "unknown"). */
  String targetHealth() {
    JsonObject body = new JsonObject(get("/api/v1/targets").body());
    JsonArray active = body.getJsonObject("data").getJsonArray("activeTargets");
    return active.isEmpty() ? "none" : active.getJsonObject(0).getString("health")
        + Optional.ofNullable(active.getJsonObject(0).getString("lastError")).filter(e -> !e.isEmpty()).map(e -> " " + e).orElse("");
  }

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
