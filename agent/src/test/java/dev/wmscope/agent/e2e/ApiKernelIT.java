package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API of the packaged agent against the Workerman stand-in and clients with known
 * bytes from three distinct loopback addresses (127.0.0.2-4): document shapes and values, top
 * peers, filters, readiness, self-telemetry in /metrics.
 */
@KernelTest
class ApiKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @BeforeAll
  static void phpPresent() {
    assertThat(WorkermanStandin.phpExecutable()).as("php-cli (apt-get install php-cli)").isPresent();
  }

  private static JsonObject find(JsonArray rows, String key, Object value) {
    return rows.stream().map(JsonObject.class::cast).filter(o -> String.valueOf(value).equals(String.valueOf(o.getValue(key))))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + key + "=" + value + " in " + rows.encodePrettily()));
  }

  @Test
  void documentsMatchAKnownTrafficPattern(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Gateway", "text://127.0.0.1:" + port, 2, false)));
        var agent = new AgentProcess(List.of("run", "--poll-interval", "200ms", "--discovery-interval", "200ms"), Map.of())) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      int http = agent.httpPort(30_000);
      assertThat(CliRun.get(http, "/healthz").statusCode()).isEqualTo(200);
      Await.until(WAIT, "/readyz", () -> {
        try {
          return CliRun.get(http, "/readyz").statusCode();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, 200);
      agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(port)), 20_000);

      try (TextClients big = new TextClients().open(port, InetAddress.getByName("127.0.0.2"), 900, 900, 900);
          TextClients mid = new TextClients().open(port, InetAddress.getByName("127.0.0.3"), 700, 300);
          TextClients small = new TextClients().open(port, InetAddress.getByName("127.0.0.4"), 50)) {
        long all = big.totalBytes() + mid.totalBytes() + small.totalBytes();
        try {
          Await.until(WAIT, "bytes in on the port", () -> CliRun.json(http, "/api/connections?port=" + port)
              .getJsonArray("connections").stream().mapToLong(c -> ((JsonObject) c).getLong("bytes_in")).sum(), all);
        } catch (AssertionError e) {
          // the rows say which connection is off (a CI run once saw one 700-byte echo too many)
          throw new AssertionError(e.getMessage() + "; rows: "
              + CliRun.json(http, "/api/connections?port=" + port).encodePrettily(), e);
        }

        // top peers: ours in order of bytes, each with in + out = twice what it sent (echo)
        JsonArray peers = CliRun.json(http, "/api/top?limit=100").getJsonArray("peers");
        List<String> ours = peers.stream().map(p -> ((JsonObject) p).getString("peer_address"))
            .filter(a -> a.equals("127.0.0.2") || a.equals("127.0.0.3") || a.equals("127.0.0.4")).toList();
        assertThat(ours).containsExactly("127.0.0.2", "127.0.0.3", "127.0.0.4");
        JsonObject p2 = find(peers, "peer_address", "127.0.0.2");
        assertThat(p2.getLong("bytes_in")).isEqualTo(big.totalBytes());
        assertThat(p2.getLong("bytes_out")).isEqualTo(big.totalBytes());
        assertThat(p2.getLong("bytes")).isEqualTo(2 * big.totalBytes());
        assertThat(p2.getLong("active")).isEqualTo(3);
        assertThat(p2.getLong("opened")).isEqualTo(3);
        assertThat(find(peers, "peer_address", "127.0.0.4").getLong("bytes_in")).isEqualTo(50);

        // connections: filters by peer and worker; every value typed as documented
        JsonObject byPeer = CliRun.json(http, "/api/connections?peer=127.0.0.3&sort=bytes");
        assertThat(byPeer.getLong("matched")).isEqualTo(2);
        JsonArray rows = byPeer.getJsonArray("connections");
        assertThat(rows.getJsonObject(0).getLong("bytes_in")).isEqualTo(700);
        assertThat(rows.getJsonObject(1).getLong("bytes_in")).isEqualTo(300);
        JsonObject c = rows.getJsonObject(0);
        assertThat(c.getValue("pid")).isInstanceOf(Number.class);
        assertThat(c.getString("name")).isEqualTo("Gateway");
        assertThat(c.getString("side")).isEqualTo("server");
        assertThat(c.getString("peer_address")).isEqualTo("127.0.0.3");
        assertThat(c.getInteger("peer_port")).isEqualTo(mid.clients().getFirst().localPort());
        assertThat(c.getInteger("local_port")).isEqualTo(port);
        assertThat(c.getDouble("age_s")).isPositive();
        assertThat(c.getLong("rtt_us")).isPositive();
        assertThat(c.getBoolean("preexisting")).isFalse();
        assertThat(c.getString("started")).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        long pid = c.getLong("pid");
        assertThat(workers).contains((int) pid);
        assertThat(CliRun.json(http, "/api/connections?worker=Gateway&port=" + port).getLong("matched")).isEqualTo(6);
        assertThat(CliRun.json(http, "/api/connections?worker=" + pid + "&port=" + port).getJsonArray("connections"))
            .allSatisfy(o -> assertThat(((JsonObject) o).getLong("pid")).isEqualTo(pid));
        HttpResponse<String> bad = CliRun.get(http, "/api/connections?limit=0");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(bad.body()).getString("error")).contains("limit 0");

        // workers: both processes of the app, active counts adding up to the six clients
        Map<Integer, JsonObject> truth = CliKernelIT.own(app, workers, all);
        JsonArray rowsW = CliRun.json(http, "/api/workers").getJsonArray("workers");
        long active = 0;
        for (int w : workers) {
          JsonObject row = find(rowsW, "pid", (long) w);
          assertThat(row.getString("name")).isEqualTo("Gateway");
          assertThat(row.getString("role")).isEqualTo("gateway");
          assertThat(row.getLong("master_pid")).isEqualTo(app.masterPid());
          assertThat(row.getLong("active")).isEqualTo(truth.get(w).getLong("active"));
          assertThat(row.getLong("bytes_in")).isEqualTo(truth.get(w).getLong("bytes_in"));
          assertThat(row.getLong("accept_queue_limit")).as("the shared listener's backlog").isPositive();
          active += row.getLong("active");
        }
        assertThat(active).isEqualTo(6);

        // listeners: the shared socket under the master, held by all three processes
        JsonObject listener = find(CliRun.json(http, "/api/listeners").getJsonArray("listeners"), "port", port);
        assertThat(listener.getLong("pid")).isEqualTo(app.masterPid());
        assertThat(listener.getBoolean("shared")).isTrue();
        assertThat(listener.getJsonArray("holders")).hasSize(3);

        // history and the agent's own numbers
        Await.until(WAIT, "two history points", () -> CliRun.json(http, "/api/history").getJsonArray("points").size() >= 2, true);
        JsonArray points = CliRun.json(http, "/api/history").getJsonArray("points");
        assertThat(points.getJsonObject(points.size() - 1).getLong("time"))
            .isGreaterThan(points.getJsonObject(0).getLong("time"));
        JsonObject self = CliRun.json(http, "/api/agent");
        assertThat(self.getBoolean("ready")).isTrue();
        assertThat(self.getLong("events")).isGreaterThanOrEqualTo(6);
        assertThat(self.getLong("pid")).isEqualTo(agent.pid());
        assertThat(self.getJsonObject("jvm").getLong("heap_used_bytes")).isPositive();
        String metrics = CliRun.get(http, "/metrics").body();
        assertThat(metrics).contains("wmscope_agent_events_total", "wmscope_agent_poll_lag_seconds",
            "jvm_memory_used_bytes{", "jvm_memory_type=\"heap\"");
        JsonObject status = CliRun.json(http, "/api/status");
        assertThat(status.getJsonObject("totals").getLong("active")).isGreaterThanOrEqualTo(6);
      }
    }
  }
}
