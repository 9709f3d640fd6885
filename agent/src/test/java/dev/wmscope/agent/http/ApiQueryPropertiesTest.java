package dev.wmscope.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.api.StatusSource;
import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.probe.TrafficStats;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.WorkerIdentity;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The HTTP API's query parameters are what any local client controls: random names and values,
 * sent over real loopback HTTP to the real routes, over a view with connections in it. Every
 * answer is 200 with a JSON document or 400 with the reason: never a 500, never a stack trace.
 */
class ApiQueryPropertiesTest {
  private static final WorkerIdentity WORKER =
      new WorkerIdentity("Web", "http://0.0.0.0:8787", 100, "/srv/app/start.php", "worker");
  private static Vertx vertx;
  private static HttpClient client;
  private static int port;

  private static LiveState.OpenConn conn(int i) {
    ConnectionEvent e = new ConnectionEvent(ConnectionEvent.Side.SERVER, i % 2 == 0, i % 2 == 0 ? "::1" : "127.0.0.1",
        8787, i % 2 == 0 ? "::1" : "127.0.0." + (i + 1), 40_000 + i, 1_700_000_000_000_000_000L, 0, 0, 0, 0, 0, 0, 0,
        100 + i, "php", i % 3 == 0 ? null : WORKER, false);
    return new LiveState.OpenConn(e, i, 10L * i, 20L * i, 0, 100 + i, 0, 0, -1, 0);
  }

  @BeforeContainer
  static void start() throws Exception {
    vertx = Vertx.vertx();
    client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<LiveState.OpenConn> open = List.of(conn(0), conn(1), conn(2), conn(3), conn(4));
    StatusSource source = new StaticStatusSource() {
      @Override
      public LiveState.View view() {
        return new LiveState.View(1, open, List.of(), List.of(), List.of(), Map.of("ringbuf_full", 0L),
            TrafficStats.Snapshot.EMPTY);
      }

      @Override
      public List<String> notReady() {
        return List.of();
      }
    };
    HttpServerVerticle server = new HttpServerVerticle(new HttpAddress("127.0.0.1", 0), List.of(new ApiRoutes(source)));
    vertx.deployVerticle(server).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = server.actualPort();
  }

  @AfterContainer
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Provide
  Arbitrary<String> values() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(200),
        Arbitraries.strings().withChars("0123456789-+e.x :[]%&=#?/\\\u0000\n").ofMaxLength(25),
        Arbitraries.of("", " ", "0", "-1", "2147483648", "9223372036854775808", "1e3", "0x10", "NaN",
            "bytes", "age", "rtt", "Web", "127.0.0.1", "[::1]:40000", "127.0.0.2:40001", "%", "%zz"));
  }

  @Provide
  Arbitrary<String> names() {
    return Arbitraries.oneOf(Arbitraries.of("worker", "port", "peer", "pid", "limit", "sort"),
        Arbitraries.strings().all().ofMaxLength(20));
  }

  @Provide
  Arbitrary<String> paths() {
    return Arbitraries.of("/api/connections", "/api/top", "/api/status", "/api/workers", "/api/listeners",
        "/api/history", "/api/agent");
  }

  @Property(tries = 400)
  void anyQueryIsAnsweredWithJsonAnd200Or400(@ForAll("paths") String path, @ForAll("names") String a,
      @ForAll("values") String va, @ForAll("names") String b, @ForAll("values") String vb) throws Exception {
    String query = enc(a) + "=" + enc(va) + "&" + enc(b) + "=" + enc(vb);
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path + "?" + query))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("%s?%s", path, query).isIn(200, 400);
    JsonObject body = new JsonObject(r.body());
    if (r.statusCode() == 400) {
      assertThat(body.getString("error")).isNotBlank().doesNotContain("Exception", "\tat ");
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
