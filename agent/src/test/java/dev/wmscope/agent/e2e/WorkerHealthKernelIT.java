package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker health end to end on the real kernel, against the stand-in: a handler blocked in usleep
 * and one spinning on the CPU are reported as blocked (with what they do) and as back in their
 * loop; an idle worker's utilization is near 0 and a worker without a listener (timers only,
 * usleep is its wait) is never blocked; a worker that exits by itself with code 3 and one killed
 * by a kill command are reported with their causes, and the stand-in's status command (SIGIOT to
 * every process) produces no exit. A worker whose descriptor limit is lowered (prlimit) warns
 * above 80% of it and says when it is back below. Exits and blocked workers also arrive as OTLP
 * log records.
 */
@KernelTest
class WorkerHealthKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static JsonObject row(int httpPort, long pid) {
    return CliRun.json(httpPort, "/api/workers").getJsonArray("workers").stream().map(o -> (JsonObject) o)
        .filter(w -> w.getLong("pid") == pid).findFirst().orElse(null);
  }

  @Test
  void blockedSpinningIdleAndExitingWorkersAreToldApart(@TempDir Path dir) throws Exception {
    int http = WorkermanStandin.freePort();
    int text = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(
        WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1, false),
        WorkermanStandin.worker("Echo", "text://127.0.0.1:" + text, 2, false),
        new JsonObject().put("name", "Timer").put("protocol", "none")))) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(4, Set.of(), WAIT);
      try (var receiver = new OtlpHttpReceiver();
          var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms",
          "--blocked-threshold", "500ms"), Map.of("OTEL_LOGS_EXPORTER", "otlp",
              "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_BLRP_SCHEDULE_DELAY", "200"))) {
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(http)), 30_000);
        int api = agent.httpPort(5_000);
        long apiPid = pidOf(app, "Api");
        long timerPid = pidOf(app, "Timer");
        // idle: the Select loop waits in stream_select
        // (the first readings after start-up still see the worker's own start: wait for a quiet one)
        JsonObject idle = WorkermanStandin.await(Duration.ofSeconds(10), "Api's idle event loop below 5%", () -> {
          JsonObject r = row(api, apiPid);
          Double u = r == null || r.getJsonObject("eventloop") == null ? null
              : r.getJsonObject("eventloop").getDouble("utilization");
          return u != null && u < 0.05 ? r : null;
        });
        assertThat(idle.getJsonObject("eventloop").getString("kind")).isEqualTo("select");
        assertThat(idle.getJsonObject("eventloop").getBoolean("blocked")).isFalse();
        assertThat(idle.getLong("open_fds")).isPositive();
        assertThat(idle.getLong("fd_limit")).isPositive();
        // descriptor headroom: lower Api's limit just above what it holds, then open 10 connections
        long base = idle.getLong("open_fds");
        long limit = base + 12;
        assertThat(new ProcessBuilder("prlimit", "--pid", Long.toString(apiPid), "--nofile=" + limit + ":" + limit)
            .start().waitFor()).isZero();
        List<Socket> held = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
          held.add(new Socket(V4, http));
        }
        agent.awaitStderr(l -> l.contains("worker Api[" + apiPid + "] holds") && l.contains("of its limit of " + limit),
            10_000);
        assertThat(row(api, apiPid).getLong("fd_limit")).isEqualTo(limit);
        for (Socket h : held) {
          h.close();
        }
        agent.awaitStderr(l -> l.contains("worker Api[" + apiPid + "] holds") && l.contains("below the warning level"),
            10_000);
        var status = CliRun.wmscope(List.of("status", "--http-address", "127.0.0.1:" + api), Map.of(),
            Duration.ofSeconds(30));
        assertThat(status.stdout()).contains("EVENT LOOPS").containsPattern("(?m)^" + apiPid + "\\s+Api\\s+select\\s");

        // a handler blocked 3 s in usleep: long enough past the 500 ms threshold that the row read
        // after the log line still falls inside the block on a loaded machine (a 1.5 s block left
        // under a second, and a CI run missed it once)
        try (var c = new HttpWire(V4, http)) {
          c.write(HttpWire.get("/delay/3000"));
          agent.awaitStderr(l -> l.contains("worker Api[" + apiPid + "] blocked for") && l.contains("nanosleep"), 10_000);
          JsonObject blocked = row(api, apiPid).getJsonObject("eventloop");
          assertThat(blocked.getBoolean("blocked")).isTrue();
          assertThat(blocked.getString("doing")).contains("nanosleep");
          c.read();
          agent.awaitStderr(l -> l.contains("worker Api[" + apiPid + "] back in its event loop after 3."), 10_000);

          // a handler spinning 3 s on the CPU
          c.write(HttpWire.get("/spin/3000"));
          agent.awaitStderr(l -> l.contains("worker Api[" + apiPid + "] blocked for")
              && l.contains("running on a CPU in user space"), 10_000);
          assertThat(row(api, apiPid).getJsonObject("eventloop").getDouble("utilization")).isGreaterThan(0.8);
          c.read();
          agent.awaitStderr(l -> l.contains("worker Api[" + apiPid + "] back in its event loop after 3."), 10_000);
        }
        // the timer-only worker sleeps in usleep between timers: that is its wait, never blocked
        assertThat(agent.stderr()).noneMatch(l -> l.contains("Timer[" + timerPid + "] blocked"));
        assertThat(row(api, timerPid) == null || !row(api, timerPid).getJsonObject("eventloop").getBoolean("blocked"))
            .isTrue();

        // Workerman's status command signals every process (SIGIOT): no exit
        assertThat(app.run(Duration.ofSeconds(20), "status")).isZero();
        // an Echo worker exits by itself with code 3; the other is killed by this test
        List<Integer> echo = workers.stream().filter(p -> p != apiPid && p != timerPid).toList();
        try (Socket s = new Socket(V4, text); OutputStream out = s.getOutputStream()) {
          for (int i = 0; i < 2; i++) {
            out.write("exit 3\n".getBytes(StandardCharsets.US_ASCII)); // reaches one of the two
          }
          out.flush();
          s.getInputStream().read();
        }
        long exited = WorkermanStandin.await(WAIT, "an Echo worker to exit with code 3", () ->
            echo.stream().filter(p -> !WorkermanStandin.isRunning(p)).findFirst().map(Integer::longValue).orElse(null));
        long victim = echo.stream().filter(p -> p != exited).findFirst().orElseThrow();
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(victim)).start();
        long killer = kill.pid();
        assertThat(kill.waitFor()).isZero();
        agent.awaitStderr(l -> l.contains("worker Echo[" + exited + "] exited by itself with code 3"), 10_000);
        agent.awaitStderr(l -> l.contains("worker Echo[" + victim + "] killed by SIGKILL from pid " + killer + " ("),
            10_000);
        app.awaitWorkers(4, Set.of((int) exited, (int) victim), WAIT); // the master forks replacements
        JsonObject events = WorkermanStandin.await(WAIT, "two exits and two starts", () -> {
          JsonObject e = CliRun.json(api, "/api/events");
          return e.getJsonArray("events").size() >= 4 ? e : null;
        });
        var list = events.getJsonArray("events").stream().map(o -> (JsonObject) o).toList();
        assertThat(list).filteredOn(e -> e.getString("type").equals("exit"))
            .extracting(e -> e.getLong("pid") + " " + e.getString("cause"))
            .containsExactlyInAnyOrder(exited + " error", victim + " signal");
        assertThat(list).filteredOn(e -> e.getString("type").equals("start")).hasSize(2)
            .allSatisfy(e -> assertThat(e.getString("name")).isEqualTo("Echo"));
        String metrics = CliRun.get(api, "/metrics").body();
        assertThat(metrics).contains("workerman_worker_exits_total{")
            .contains("workerman_worker_exit_cause=\"error\"").contains("workerman_worker_exit_cause=\"signal\"")
            .contains("workerman_eventloop_utilization{").contains("workerman_eventloop_blocked{")
            .contains("workerman_eventloop_busy_duration_seconds_bucket{").contains("process_unix_file_descriptor_count");
        assertThat(metrics.lines().filter(l -> l.startsWith("workerman_eventloop_busy_duration_seconds_count{")
            && l.contains("process_pid=\"" + apiPid + "\"")).findFirst().orElseThrow())
            .as("the two blocked requests at least").doesNotEndWith(" 0.0").doesNotEndWith(" 1.0");
        // the same events as OpenTelemetry log records, checked at the wire
        var records = WorkermanStandin.await(WAIT, "the exit log records", () -> {
          var all = receiver.logs().stream().flatMap(r -> r.getScopeLogsList().stream())
              .flatMap(sl -> sl.getLogRecordsList().stream()).toList();
          return all.stream().filter(l -> l.getEventName().equals("workerman.worker.exit")).count() >= 2 ? all : null;
        });
        assertThat(records).filteredOn(l -> l.getEventName().equals("workerman.worker.exit"))
            .extracting(l -> attr(l, "workerman.worker.exit.cause") + " " + attr(l, "process.pid"))
            .containsExactlyInAnyOrder("error " + exited, "signal " + victim);
        assertThat(records).filteredOn(l -> l.getEventName().equals("workerman.worker.blocked"))
            .extracting(l -> attr(l, "process.pid")).containsOnly(String.valueOf(apiPid)).hasSize(2);
        assertThat(records).filteredOn(l -> l.getEventName().equals("workerman.worker.exit"))
            .allSatisfy(l -> assertThat(l.getBody().getStringValue()).startsWith("worker Echo["));
        assertThat(agent.terminate(15_000)).isZero();
      }
    }
  }

  private static String attr(io.opentelemetry.proto.logs.v1.LogRecord l, String key) {
    return l.getAttributesList().stream().filter(kv -> kv.getKey().equals(key)).findFirst()
        .map(kv -> kv.getValue().hasIntValue() ? String.valueOf(kv.getValue().getIntValue())
            : kv.getValue().getStringValue()).orElse("");
  }

  /**
   * A reload of an app with open connections: the Echo workers (shared socket or reusePort) leave
   * after the master's SIGUSR1, the Api worker is spinning in a handler and is killed by the
   * master after stop_timeout (2 s). The report names every replaced pid, pairs each with its
   * replacement, and counts the connections the old workers closed exactly.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "reusePort={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aReloadReportsEveryReplacedWorkerAndTheConnectionsItCut(boolean reusePort, @TempDir Path dir)
      throws Exception {
    int http = WorkermanStandin.freePort();
    int text = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(
        WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1, false),
        WorkermanStandin.worker("Echo", "text://127.0.0.1:" + text, 2, reusePort)))) {
      app.start(false);
      List<Integer> old = app.awaitWorkers(3, Set.of(), WAIT);
      try (var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
          Map.of())) {
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(text)), 30_000);
        int api = agent.httpPort(5_000);
        long master = app.masterPid();
        List<Socket> clients = new java.util.ArrayList<>();
        try (var c = new HttpWire(V4, http)) {
          echoClients(text, 4, clients);
          awaitActive(api, old, 5);
          c.write(HttpWire.get("/spin/4000"));
          Thread.sleep(200); // the spin has begun: this worker will not see SIGUSR1 before the stop timeout
          assertThat(app.run(Duration.ofSeconds(20), "reload")).isZero();
          agent.awaitStderr(l -> l.contains("reload of " + app.startFile() + " (master " + master + ", SIGUSR1 from"),
              40_000);
        } finally {
          for (Socket s : clients) {
            s.close();
          }
        }
        List<Integer> now = app.awaitWorkers(3, Set.copyOf(old), WAIT);
        JsonObject reload = CliRun.json(api, "/api/events").getJsonArray("events").stream().map(o -> (JsonObject) o)
            .filter(e -> e.getString("type").equals("reload")).findFirst().orElseThrow();
        var replaced = reload.getJsonArray("replaced").stream().map(o -> (JsonObject) o).toList();
        assertThat(replaced).extracting(r -> r.getLong("old_pid"))
            .containsExactlyInAnyOrderElementsOf(old.stream().map(Integer::longValue).toList());
        assertThat(replaced).extracting(r -> r.getLong("new_pid"))
            .containsExactlyInAnyOrderElementsOf(now.stream().map(Integer::longValue).toList());
        long apiOld = replaced.stream().filter(r -> r.getString("name").equals("Api")).findFirst().orElseThrow()
            .getLong("old_pid");
        assertThat(replaced).filteredOn(r -> r.getString("name").equals("Api")).singleElement()
            .satisfies(r -> assertThat(r.getString("cause")).isEqualTo("stop_timeout"));
        assertThat(replaced).filteredOn(r -> r.getString("name").equals("Echo")).hasSize(2)
            .allSatisfy(r -> assertThat(r.getString("cause")).isEqualTo("reload"));
        assertThat(reload.getLong("closed") + reload.getLong("reset")).as("%s", reload).isEqualTo(5);
        // each old worker's exit counts the connections it held: the Echo workers close theirs in
        // PHP after SIGUSR1 and before they exit (as Workerman does), the Api's is reset at its SIGKILL
        List<JsonObject> exits = CliRun.json(api, "/api/events").getJsonArray("events").stream()
            .map(o -> (JsonObject) o).filter(e -> e.getString("type").equals("exit"))
            .filter(e -> old.contains(e.getLong("pid").intValue())).toList();
        assertThat(exits).as("%s", exits).hasSize(3);
        assertThat(exits.stream().mapToLong(e -> e.getLong("connections")).sum()).as("%s", exits).isEqualTo(5);
        assertThat(exits).allSatisfy(e -> assertThat(e.getLong("still_open")).isZero());
        assertThat(reload.getLong("still_open")).isZero();
        assertThat(reload.getBoolean("complete")).isTrue();
        assertThat(reload.getDouble("duration_s")).isGreaterThanOrEqualTo(1.5); // the stop timeout
        assertThat(reload.getJsonObject("no_worker_ms").getDouble("Api")).isPositive();
        assertThat(reload.getJsonObject("no_worker_ms").getDouble("Echo")).as("one at a time").isZero();
        agent.awaitStderr(l -> l.contains("worker Api[" + apiOld + "] killed by SIGKILL from its master " + master
            + " (still running after the stop timeout of SIGUSR1)"), 10_000);
        int exitLine = indexOf(agent.stderr(), "worker Api[" + apiOld + "] killed by SIGKILL");
        int reportLine = indexOf(agent.stderr(), "reload of " + app.startFile());
        assertThat(exitLine).as("the exits are logged before the reload's report").isLessThan(reportLine);
        assertThat(agent.terminate(15_000)).isZero();
      }
    }
  }

  /**
   * {@code php start.php restart} of an app with 5 open connections (4 on the Echo workers, one
   * on the Api): the command sends SIGINT to the master, waits for its exit and becomes the new
   * master. One restart report pairs every old worker with a new worker of the new master, counts
   * the 5 connections the old workers closed, and gives each worker name a downtime (every old
   * worker exits before the new master forks). A plain {@code stop} of another app makes no
   * restart report, not even after the wait for a new master is over.
   */
  @Test
  void aRestartReportsEveryOldWorkerWithItsSuccessorAndAStopNone(@TempDir Path dir) throws Exception {
    int http = WorkermanStandin.freePort();
    int text = WorkermanStandin.freePort();
    int solo = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(java.nio.file.Files.createDirectories(dir.resolve("restarted")), List.of(
        WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1, false),
        WorkermanStandin.worker("Echo", "text://127.0.0.1:" + text, 2, false)));
        var other = WorkermanStandin.create(java.nio.file.Files.createDirectories(dir.resolve("stopped")), List.of(
            WorkermanStandin.worker("Solo", "text://127.0.0.1:" + solo, 1, false)))) {
      app.start(false);
      other.start(false);
      List<Integer> old = app.awaitWorkers(3, Set.of(), WAIT);
      int soloPid = other.awaitWorkers(1, Set.of(), WAIT).getFirst();
      try (var receiver = new OtlpHttpReceiver();
          var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
              Map.of("OTEL_LOGS_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
                  "OTEL_BLRP_SCHEDULE_DELAY", "200"))) {
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(text))
            && l.contains(String.valueOf(solo)), 30_000);
        int api = agent.httpPort(5_000);
        long oldMaster = app.masterPid();
        WorkermanStandin.await(WAIT, "worker health to watch every worker", () -> {
          JsonObject r = row(api, soloPid);
          return r != null && r.getJsonObject("eventloop") != null
              && old.stream().allMatch(p -> row(api, p) != null && row(api, p).getJsonObject("eventloop") != null)
              ? true : null;
        });
        // a plain stop first: its wait for a new master runs while the restart below goes on
        assertThat(other.run(Duration.ofSeconds(20), "stop")).isZero();
        long stopped = System.nanoTime();
        agent.awaitStderr(l -> l.contains("worker Solo[" + soloPid + "] exited with code 0 after SIGINT"), 10_000);
        List<Socket> clients = new java.util.ArrayList<>();
        long newMaster;
        List<Integer> now;
        try (var c = new HttpWire(V4, http)) {
          assertThat(c.write(HttpWire.get("/")).read().status()).isEqualTo(200);
          echoClients(text, 4, clients);
          awaitActive(api, old, 5);
          app.command("restart"); // runs on as the new master
          now = app.awaitWorkers(3, Set.copyOf(old), WAIT);
          newMaster = app.masterPid();
          assertThat(newMaster).isNotEqualTo(oldMaster);
          agent.awaitStderr(l -> l.contains("restart of " + app.startFile() + " (master " + oldMaster + " -> "
              + newMaster + ", SIGINT from pid " + newMaster + " ("), 40_000);
        } finally {
          for (Socket s : clients) {
            s.close();
          }
        }
        JsonObject restart = restarts(api, app.startFile()).getFirst();
        assertThat(restart.getLong("pid")).isEqualTo(oldMaster);
        assertThat(restart.getLong("old_master")).isEqualTo(oldMaster);
        assertThat(restart.getLong("new_master")).isEqualTo(newMaster);
        assertThat(restart.getString("cause")).isEqualTo("restart");
        var replaced = restart.getJsonArray("replaced").stream().map(o -> (JsonObject) o).toList();
        assertThat(replaced).extracting(r -> r.getLong("old_pid"))
            .containsExactlyInAnyOrderElementsOf(old.stream().map(Integer::longValue).toList());
        assertThat(replaced).extracting(r -> r.getLong("new_pid"))
            .containsExactlyInAnyOrderElementsOf(now.stream().map(Integer::longValue).toList());
        assertThat(app.masterJson().orElseThrow().getJsonArray("workers").stream().map(o -> (JsonObject) o)
            .map(w -> w.getString("name") + " " + w.getLong("pid")).toList())
            .as("each old worker's successor is a new worker of its name")
            .containsExactlyInAnyOrderElementsOf(replaced.stream().map(r -> r.getString("name") + " "
                + r.getLong("new_pid")).toList());
        assertThat(replaced).allSatisfy(r -> assertThat(r.getString("cause")).isEqualTo("stop"));
        assertThat(restart.getLong("closed") + restart.getLong("reset")).as("%s", restart).isEqualTo(5);
        assertThat(restart.getLong("still_open")).isZero();
        assertThat(restart.getBoolean("complete")).isTrue();
        assertThat(restart.getJsonObject("no_worker_ms").getDouble("Api")).as("%s", restart).isPositive();
        assertThat(restart.getJsonObject("no_worker_ms").getDouble("Echo")).as("%s", restart).isPositive();
        // a daemonized restart: the command titles itself as the master and forks twice to
        // daemonize; its child that exits 0 at once is no worker's exit
        assertThat(app.run(Duration.ofSeconds(30), "restart", "-d")).isZero();
        agent.awaitStderr(l -> l.contains("restart of " + app.startFile() + " (master " + newMaster + " -> "), 40_000);
        assertThat(agent.stderr()).as("no exit of a process that was never a worker")
            .noneMatch(l -> l.contains("gone before discovery saw it"));
        // the stop's wait for a new master is over (30 s after its master's exit): still no report
        long waitOver = stopped + Duration.ofSeconds(32).toNanos();
        Thread.sleep(Math.max(0, (waitOver - System.nanoTime()) / 1_000_000));
        assertThat(restarts(api, app.startFile())).hasSize(2);
        assertThat(restarts(api, other.startFile())).isEmpty();
        assertThat(agent.stderr()).filteredOn(l -> l.contains("restart of " + app.startFile())).hasSize(2);
        assertThat(agent.stderr()).noneMatch(l -> l.contains("restart of " + other.startFile()));
        // the report as an OpenTelemetry log record, checked at the wire
        var records = WorkermanStandin.await(WAIT, "the restart log record", () -> {
          var all = receiver.logs().stream().flatMap(r -> r.getScopeLogsList().stream())
              .flatMap(sl -> sl.getLogRecordsList().stream())
              .filter(l -> l.getEventName().equals("workerman.restart"))
              .filter(l -> attr(l, "workerman.start_file").startsWith("/srv/wmscope-test-")).toList();
          return all.size() < 2 ? null : all;
        });
        assertThat(records).as("the restart and the daemonized restart").hasSize(2)
            .filteredOn(l -> attr(l, "process.pid").equals(String.valueOf(oldMaster))).singleElement().satisfies(l -> {
          assertThat(attr(l, "workerman.restart.new_master.pid")).isEqualTo(String.valueOf(newMaster));
          assertThat(attr(l, "workerman.start_file")).isEqualTo(app.startFile());
          assertThat(attr(l, "workerman.reload.connections_cut")).isEqualTo("5");
        });
        assertThat(agent.terminate(15_000)).isZero();
      }
    }
  }

  /** Opens {@code n} connections to a text echo worker, each echoed once (accepted), into {@code into}. */
  private static void echoClients(int port, int n, List<Socket> into) throws java.io.IOException {
    for (int i = 0; i < n; i++) {
      Socket s = new Socket(V4, port);
      into.add(s);
      s.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(s.getInputStream().read()).isEqualTo('h');
    }
  }

  /** Waits until the agent lists at least {@code n} open connections of these workers. */
  private static void awaitActive(int api, List<Integer> pids, long n) throws InterruptedException {
    WorkermanStandin.await(WAIT, "the agent to see the " + n + " connections", () ->
        CliRun.json(api, "/api/workers").getJsonArray("workers").stream().map(o -> (JsonObject) o)
            .filter(w -> pids.contains(w.getLong("pid").intValue()))
            .mapToLong(w -> w.getLong("active", 0L)).sum() >= n ? true : null);
  }

  private static List<JsonObject> restarts(int api, String startFile) {
    return CliRun.json(api, "/api/events").getJsonArray("events").stream().map(o -> (JsonObject) o)
        .filter(e -> e.getString("type").equals("restart") && startFile.equals(e.getString("start_file"))).toList();
  }

  /**
   * A crash loop: a worker that exits with 255 right after its start (a fatal error in
   * onWorkerStart), re-forked at once by its master, dies before any discovery pass sees it. The
   * kernel watches the master's children from their fork, so every exit is counted with its
   * cause; the log gets at most 10 lines per 10 s and a summary of the rest.
   */
  @Test
  void aCrashLoopIsCountedAndSummedUp(@TempDir Path dir) throws Exception {
    int http = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(
        WorkermanStandin.worker("Api", "http://127.0.0.1:" + http, 1, false),
        new JsonObject().put("name", "Crashy").put("protocol", "none").put("exit_at_start", 255)));
        var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
            Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      app.start(false);
      int api = agent.httpPort(30_000);
      double exits = WorkermanStandin.await(WAIT, "30 exits counted", () -> {
        String body;
        try {
          body = CliRun.get(api, "/metrics").body();
        } catch (java.io.IOException | InterruptedException e) {
          return null;
        }
        double n = body.lines()
            .filter(l -> l.startsWith("workerman_worker_exits_total{") && l.contains("exit_cause=\"error\""))
            .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        return n >= 30 ? n : null;
      });
      assertThat(exits).isGreaterThanOrEqualTo(30);
      agent.awaitStderr(l -> l.contains("more workers of master " + app.masterPid() + " exited within 10 s"), 20_000);
      long lines = agent.stderr().stream().filter(l -> l.contains("exited by itself with code 255 (a PHP fatal error)"))
          .count();
      assertThat(lines).as("one line per exit only up to 10 per window").isBetween(1L, 30L);
      assertThat(agent.stderr()).filteredOn(l -> l.contains("code 255")).allSatisfy(l -> assertThat(l)
          .containsAnyOf("worker Crashy[", "a worker of master " + app.masterPid()));
    }
  }

  private static int indexOf(List<String> lines, String part) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }

  private static long pidOf(WorkermanStandin app, String name) {
    return app.masterJson().orElseThrow().getJsonArray("workers").stream().map(o -> (JsonObject) o)
        .filter(w -> name.equals(w.getString("name"))).findFirst().orElseThrow().getLong("pid");
  }
}
