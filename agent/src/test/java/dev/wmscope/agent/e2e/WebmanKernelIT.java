package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A webman-shaped app: its processes named by config/process.php keys (`webman` on HTTP, the
 * `monitor` without a listener that sleeps between its file checks, a plugin's
 * `plugin.webman.push.server` on WebSocket), run from `.../webman/start.php`. Each process is
 * named, grouped under its one master and attributed its own traffic; the app names the service;
 * the monitor is never a blocked or stalled worker.
 */
@KernelTest
class WebmanKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String PLUGIN = "plugin.webman.push.server";

  @Test
  void webmanProcessesAreNamedGroupedAndTheMonitorIsNotAStalledWorker(@TempDir Path dir) throws Exception {
    int http = WorkermanStandin.freePort();
    int push = WorkermanStandin.freePort();
    String startFile = "/srv/wmscope-test-" + UUID.randomUUID() + "/webman/start.php";
    try (var app = WorkermanStandin.create(dir, List.of(
        WorkermanStandin.worker("webman", "http://127.0.0.1:" + http, 2, false),
        new JsonObject().put("name", "monitor").put("protocol", "none").put("reloadable", false),
        WorkermanStandin.worker(PLUGIN, "websocket://127.0.0.1:" + push, 1, false)), startFile)) {
      app.start(false);
      app.awaitWorkers(4, Set.of(), WAIT);
      try (var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms",
          "--blocked-threshold", "500ms"), Map.of())) {
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(http))
            && l.contains(String.valueOf(push)), 30_000);
        int api = agent.httpPort(5_000);
        try (var c = new HttpWire(V4, http)) {
          for (int i = 0; i < 5; i++) {
            c.write(HttpWire.get("/"));
            assertThat(c.read().status()).isEqualTo(200);
          }
        }
        try (var c = new HttpWire(V4, push)) {
          c.write("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
          c.read();
          for (int i = 0; i < 2; i++) {
            c.write(HttpWire.clientFrame(1, 12));
            c.readFrame();
          }
        }
        long master = app.masterPid();
        Set<Integer> pids = Set.copyOf(app.workerPids());
        List<JsonObject> rows = WorkermanStandin.await(WAIT, "5 requests and 4 messages counted", () -> {
          List<JsonObject> r = CliRun.json(api, "/api/workers").getJsonArray("workers").stream()
              .map(o -> (JsonObject) o).filter(w -> pids.contains(w.getLong("pid").intValue())).toList();
          long requests = r.stream().filter(w -> "webman".equals(w.getString("name")))
              .mapToLong(w -> w.getLong("requests", 0L)).sum();
          long messages = r.stream().filter(w -> PLUGIN.equals(w.getString("name")))
              .mapToLong(w -> w.getLong("websocket_messages", 0L)).sum();
          return r.size() == 4 && requests == 5 && messages == 4 ? r : null;
        });
        assertThat(rows).extracting(w -> w.getString("name") + " " + w.getString("listen"))
            .containsExactlyInAnyOrder("webman http://127.0.0.1:" + http, "webman http://127.0.0.1:" + http,
                "monitor none", PLUGIN + " websocket://127.0.0.1:" + push);
        assertThat(rows).as("one app: one master, its start file").allSatisfy(w -> {
          assertThat(w.getLong("master_pid")).isEqualTo(master);
          assertThat(w.getString("role")).isEqualTo("worker");
        });
        assertThat(rows).extracting(w -> w.getString("name") + " " + w.getLong("requests", 0L))
            .as("the plugin's one request is its WebSocket handshake")
            .containsExactlyInAnyOrder("monitor 0", PLUGIN + " 1", "webman " + rows.stream()
                .filter(w -> "webman".equals(w.getString("name"))).findFirst().orElseThrow().getLong("requests", 0L),
                "webman " + rows.stream().filter(w -> "webman".equals(w.getString("name"))).skip(1).findFirst()
                .orElseThrow().getLong("requests", 0L));

        // the monitor sleeps between timers (Workerman's Select loop without descriptors): its wait
        long monitor = rows.stream().filter(w -> "monitor".equals(w.getString("name"))).findFirst().orElseThrow()
            .getLong("pid");
        JsonObject loop = WorkermanStandin.await(Duration.ofSeconds(10), "the monitor's event loop read", () -> {
          JsonObject r = CliRun.json(api, "/api/workers").getJsonArray("workers").stream().map(o -> (JsonObject) o)
              .filter(w -> w.getLong("pid") == monitor).findFirst().orElse(null);
          return r == null || r.getJsonObject("eventloop") == null
              || r.getJsonObject("eventloop").getDouble("utilization") == null ? null : r;
        });
        Thread.sleep(1500); // three times the blocked threshold
        JsonObject later = CliRun.json(api, "/api/workers").getJsonArray("workers").stream().map(o -> (JsonObject) o)
            .filter(w -> w.getLong("pid") == monitor).findFirst().orElseThrow();
        assertThat(List.of(loop, later)).allSatisfy(r -> {
          assertThat(r.getBoolean("stalled")).isFalse();
          assertThat(r.getJsonObject("eventloop").getBoolean("blocked")).isFalse();
        });
        // the first reading's interval can hold the end of php's start-up (compiling start.php is
        // real CPU work: a CI run read 0.285 there); three intervals later only its sleeps are left
        assertThat(later.getJsonObject("eventloop").getDouble("utilization")).isLessThan(0.05);
        assertThat(agent.stderr()).noneMatch(l -> l.contains("monitor[" + monitor + "]"));

        // names on the metrics, and the app names the service
        String metrics = CliRun.get(api, "/metrics").body();
        assertThat(metrics).containsPattern("target_info\\{[^}]*service_name=\"webman\"")
            .containsPattern("workerman_worker_name=\"" + PLUGIN.replace(".", "\\.") + "\"")
            .containsPattern("workerman_worker_name=\"monitor\"");
        var status = CliRun.wmscope(List.of("status", "--http-address", "127.0.0.1:" + api), Map.of(),
            Duration.ofSeconds(30));
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.stdout()).contains(PLUGIN).contains("monitor").contains("webman");
        assertThat(agent.terminate(15_000)).isZero();
      }
    }
  }
}
