package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI commands as an operator runs them (the packaged jar), against the Workerman stand-in
 * with a known traffic pattern: long-lived text clients with known byte counts, which each
 * worker also counts itself.
 */
@KernelTest
class CliKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration RUN = Duration.ofSeconds(60);

  @BeforeAll
  static void phpPresent() {
    assertThat(WorkermanStandin.phpExecutable()).as("php-cli (apt-get install php-cli)").isPresent();
  }

  /**
   * Each pid's own counters (accepted, active, bytes_in, bytes_out) as the stand-in counts them.
   * A worker rewrites its stats file on accept and close, and on SIGIOT (what Workerman's
   * `status` sends) with the bytes of its open connections too: ask until the bytes add up.
   */
  static Map<Integer, JsonObject> own(WorkermanStandin app, List<Integer> workers, long bytesIn) throws Exception {
    return WorkermanStandin.await(WAIT, "the workers' own counters to add up to " + bytesIn + " bytes in", () -> {
      try {
        List<String> kill = new java.util.ArrayList<>(List.of("kill", "-6"));
        workers.forEach(p -> kill.add(String.valueOf(p)));
        new ProcessBuilder(kill).start().waitFor();
        Thread.sleep(300);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
      Map<Integer, JsonObject> m = new HashMap<>();
      workers.forEach(p -> m.put(p, app.workerStats(p).orElseThrow()));
      long sum = m.values().stream().mapToLong(j -> j.getLong("bytes_in")).sum();
      return sum == bytesIn ? m : null;
    });
  }

  private static JsonObject row(JsonArray workers, long pid) {
    return workers.stream().map(JsonObject.class::cast).filter(w -> w.getLong("pid") == pid).findFirst()
        .orElseThrow(() -> new AssertionError("no row for pid " + pid + " in " + workers.encodePrettily()));
  }

  @Test
  void statusAndConnectionsReadTheRunningAgent(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Chat", "text://127.0.0.1:" + port, 2, true)));
        var agent = new AgentProcess(List.of("run", "--poll-interval", "200ms", "--discovery-interval", "200ms"), Map.of())) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      int http = agent.httpPort(30_000);
      agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(port)), 20_000);
      try (TextClients clients = new TextClients().open(port, null, 100, 220, 340, 460, 580, 700)) {
        // the agent has read every byte once all six are open and counted
        Await.until(WAIT, "bytes of the six connections in /api/connections", () -> CliRun.json(http,
            "/api/connections?port=" + port).getJsonArray("connections").stream()
            .mapToLong(c -> ((JsonObject) c).getLong("bytes_in")).sum(), clients.totalBytes());
        Map<Integer, JsonObject> truth = own(app, workers, clients.totalBytes());
        String address = "127.0.0.1:" + http;

        // status --json: per worker, what the worker counted itself
        CliRun.Result json = CliRun.wmscope(List.of("status", "--http-address", address, "--json"), Map.of(), RUN);
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonObject status = new JsonObject(json.stdout().strip());
        for (int pid : workers) {
          JsonObject w = row(status.getJsonArray("workers"), pid);
          assertThat(w.getString("name")).isEqualTo("Chat");
          assertThat(w.getString("listen")).isEqualTo("text://127.0.0.1:" + port);
          assertThat(w.getLong("active")).as("active of %d", pid).isEqualTo(truth.get(pid).getLong("active"));
          assertThat(w.getLong("opened")).as("opened of %d", pid).isEqualTo(truth.get(pid).getLong("accepted"));
          assertThat(w.getLong("bytes_in")).as("bytes in of %d", pid).isEqualTo(truth.get(pid).getLong("bytes_in"));
          assertThat(w.getLong("bytes_out")).as("bytes out of %d", pid).isEqualTo(truth.get(pid).getLong("bytes_out"));
          assertThat(w.getLong("accept_queue_limit")).isPositive();
        }

        // the table: one row per worker with its active count, and the listeners
        CliRun.Result table = CliRun.wmscope(List.of("status", "--http-address", address), Map.of(), RUN);
        assertThat(table.exit()).as(table.toString()).isZero();
        assertThat(table.stdout()).contains("WMSCOPE STATUS", "source: agent at " + address, "PROCESS STATUS", "LISTENERS");
        for (int pid : workers) {
          String line = table.lines().stream().filter(l -> l.startsWith(pid + " ")).findFirst().orElseThrow();
          String[] cells = line.split("\\s{2,}");
          assertThat(cells[1]).isEqualTo("Chat");
          assertThat(cells[2]).isEqualTo("text://127.0.0.1:" + port);
          assertThat(Long.parseLong(cells[3])).isEqualTo(truth.get(pid).getLong("active"));
          assertThat(line).endsWith("ok");
        }
        assertThat(table.lines()).filteredOn(l -> l.startsWith("127.0.0.1:" + port)).hasSize(2); // reusePort

        // connections: one row per client, found by its port, with its exact bytes
        CliRun.Result conns = CliRun.wmscope(List.of("connections", "--http-address", address, "--port",
            String.valueOf(port)), Map.of(), RUN);
        assertThat(conns.exit()).as(conns.toString()).isZero();
        for (TextClients.Client c : clients.clients()) {
          String line = conns.lines().stream().filter(l -> l.contains("127.0.0.1:" + c.localPort() + " "))
              .findFirst().orElseThrow(() -> new AssertionError("no row for client port " + c.localPort() + "\n" + conns));
          String[] cells = line.split("\\s{2,}");
          assertThat(cells[1]).isEqualTo("Chat");
          assertThat(cells[2]).isEqualTo("server");
          assertThat(cells[3]).isEqualTo("127.0.0.1:" + port);
          assertThat(cells[6]).as("bytes in").isEqualTo(c.bytes() + " B");
          assertThat(cells[7]).as("bytes out").isEqualTo(c.bytes() + " B");
          assertThat(cells[8]).matches("\\d+(\\.\\d+)?(us|ms)");
        }
        assertThat(conns.stdout()).contains("6 connections");

        // filters: by worker pid and by peer
        int pid = workers.getFirst();
        CliRun.Result mine = CliRun.wmscope(List.of("connections", "--http-address", address, "--worker",
            String.valueOf(pid), "--json"), Map.of(), RUN);
        JsonObject doc = new JsonObject(mine.stdout().strip());
        assertThat(doc.getLong("matched")).isEqualTo(truth.get(pid).getLong("active"));
        assertThat(doc.getJsonArray("connections")).allSatisfy(c -> assertThat(((JsonObject) c).getLong("pid")).isEqualTo(pid));
        TextClients.Client third = clients.clients().get(2);
        CliRun.Result peer = CliRun.wmscope(List.of("connections", "--http-address", address, "--peer",
            "127.0.0.1:" + third.localPort(), "--json"), Map.of(), RUN);
        JsonArray one = new JsonObject(peer.stdout().strip()).getJsonArray("connections");
        assertThat(one).hasSize(1);
        assertThat(one.getJsonObject(0).getLong("bytes_in")).isEqualTo(third.bytes());

        // --live, bounded by --count
        CliRun.Result live = CliRun.wmscope(List.of("status", "--http-address", address, "--live", "--count", "3",
            "--interval", "300ms"), Map.of(), RUN);
        assertThat(live.exit()).as(live.toString()).isZero();
        assertThat(live.lines()).filteredOn(l -> l.contains("PROCESS STATUS")).hasSize(3);
        assertThat(live.stdout()).contains("refresh 3 of 3");

        // the agent is found through its lock file when --http-address points elsewhere
        CliRun.Result viaLock = CliRun.wmscope(List.of("status", "--http-address", "127.0.0.1:1", "--lock-file",
            agent.lockFile().toString(), "--json"), Map.of(), RUN);
        assertThat(viaLock.exit()).as(viaLock.toString()).isZero();
        assertThat(viaLock.stderr()).doesNotContain("sampling");
      }
    }
  }

  @Test
  void withoutAnAgentStatusSamplesTheKernelAndAdoptsOpenConnections(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Push", "text://127.0.0.1:" + port, 2, false)))) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      try (TextClients clients = new TextClients().open(port, null, 10, 20, 30, 40)) {
        Map<Integer, JsonObject> truth = own(app, workers, clients.totalBytes());
        List<String> noAgent = List.of("--http-address", "127.0.0.1:" + WorkermanStandin.freePort(), "--lock-file",
            dir.resolve("no-agent.lock").toString());

        CliRun.Result r = CliRun.wmscope(concat(List.of("status", "--sample", "2s", "--json"), noAgent), Map.of(), RUN);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stderr()).contains("no agent answered at 127.0.0.1:", "sampling the kernel here for 2s");
        JsonObject status = new JsonObject(r.stdout().strip());
        for (int pid : workers) {
          JsonObject w = row(status.getJsonArray("workers"), pid);
          assertThat(w.getString("name")).isEqualTo("Push");
          assertThat(w.getLong("active")).as("adopted connections of %d", pid).isEqualTo(truth.get(pid).getLong("active"));
          assertThat(w.getLong("opened")).as("adopted connections are not opened in the sample").isZero();
        }
        assertThat(status.getJsonObject("agent").getBoolean("ready")).isTrue();

        CliRun.Result table = CliRun.wmscope(concat(List.of("status", "--sample", "1s"), noAgent), Map.of(), RUN);
        assertThat(table.exit()).as(table.toString()).isZero();
        assertThat(table.stdout()).contains("source: kernel sample (no agent running)");

        CliRun.Result conns = CliRun.wmscope(concat(List.of("connections", "--port", String.valueOf(port), "--json"), noAgent),
            Map.of(), RUN);
        assertThat(conns.exit()).as(conns.toString()).isZero();
        JsonObject doc = new JsonObject(conns.stdout().strip());
        assertThat(doc.getLong("matched")).isEqualTo(4);
        assertThat(doc.getJsonArray("connections")).allSatisfy(c -> {
          JsonObject o = (JsonObject) c;
          assertThat(o.getBoolean("preexisting")).isTrue();
          assertThat(workers).contains(o.getInteger("pid"));
        });
        assertThat(doc.getJsonArray("connections").stream().map(c -> ((JsonObject) c).getInteger("peer_port"))
            .collect(Collectors.toSet()))
            .isEqualTo(clients.clients().stream().map(TextClients.Client::localPort).collect(Collectors.toSet()));
      }
    }
  }

  /** A copy of the jar any user can read (the build tree may not be), for unprivileged runs. */
  private static Path worldReadableJar() throws IOException {
    Path dir = Files.createTempDirectory("wmscope-jar-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = dir.resolve("wmscope.jar");
    Files.copy(CliRun.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    return jar;
  }

  @Test
  void checkPassesAsRootAndTellsAnUnprivilegedUserWhatToDo() throws Exception {
    CliRun.Result root = CliRun.wmscope(List.of("check"), Map.of(), RUN);
    assertThat(root.exit()).as(root.toString()).isZero();
    assertThat(root.stdout()).contains("ok        privileges", "ok        load", "result: this host can run wmscope");
    for (KernelFeature f : KernelFeature.values()) {
      assertThat(root.stdout()).as(f.id()).containsPattern("(?m)^  (ok      |degraded|missing ) {2}" + f.id() + " ");
    }
    // a feature the kernel refuses (here: switched off as if it had) is a row, not a problem
    CliRun.Result degraded = CliRun.wmscope(List.of("check"), Map.of(KernelFeature.DISABLE_ENV, "tracked_iter"), RUN);
    assertThat(degraded.exit()).as(degraded.toString()).isZero();
    assertThat(degraded.stdout()).containsPattern("(?m)^  degraded  tracked_iter +turned off by WMSCOPE_DISABLE_FEATURES:"
        + " live reads walk every TCP socket of the host").contains("result: this host can run wmscope (");
    CliRun.Result unknown = CliRun.wmscope(List.of("check"), Map.of(KernelFeature.DISABLE_ENV, "tracked-iter"), RUN);
    assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(2);
    assertThat(unknown.stderr()).contains("WMSCOPE_DISABLE_FEATURES=tracked-iter: unknown kernel feature 'tracked-iter'"
        + " (known: tracked_iter, ").doesNotContain("\tat ");

    Path jar = worldReadableJar();
    try {
      List<String> nobody = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
      CliRun.Result r = CliRun.run(nobody, jar, List.of("check"), Map.of(), RUN);
      assertThat(r.exit()).as(r.toString()).isEqualTo(3);
      assertThat(r.stdout())
          .contains("FAIL      privileges   uid 65534 without CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN")
          .contains("fix: run as root (sudo wmscope run), or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN")
          .contains("skip      load", "not tried: fix the failures above first")
          .contains("ok        kernel", "ok        BTF", "ok        libbpf")
          .contains("result: this host cannot run wmscope yet: 1 problem (exit 3)");
      assertThat(r.stderr()).doesNotContain("Exception", "\tat ");

      // status as that user, with no agent to ask: it cannot sample either, and says so
      CliRun.Result status = CliRun.run(nobody, jar, List.of("status", "--http-address", "127.0.0.1:"
          + WorkermanStandin.freePort(), "--lock-file", "/nonexistent/wmscope.lock"), Map.of(), RUN);
      assertThat(status.exit()).as(status.toString()).isEqualTo(5);
      assertThat(status.stderr()).contains("no agent answered and sampling the kernel failed", "hint: start the agent")
          .doesNotContain("\tat ");

      // root without CAP_BPF and CAP_SYS_ADMIN (a container's bounding set)
      CliRun.Result dropped = CliRun.run(List.of("capsh", "--drop=cap_bpf,cap_sys_admin,cap_perfmon", "--", "-c",
          "exec \"$0\" \"$@\""), jar, List.of("check", "--no-load"), Map.of(), RUN);
      assertThat(dropped.exit()).as(dropped.toString()).isEqualTo(3);
      assertThat(dropped.stdout()).contains("FAIL      privileges   root without CAP_BPF, CAP_PERFMON",
          "capabilities taken away");
    } finally {
      Files.deleteIfExists(jar);
      Files.deleteIfExists(jar.getParent());
    }
  }

  @Test
  void demoShowsRealWorkermanNumbersThatMatchTheWorkersOwn() throws Exception {
    CliRun.Result r = CliRun.wmscope(List.of("demo", "--connections", "9", "--seconds", "3"), Map.of(), RUN);
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.stderr()).contains("Workerman stand-in (php-cli) running", "live page http://127.0.0.1:");
    assertThat(r.stdout()).contains("PROCESS STATUS", "ChatWorker", "ApiWorker", "text://127.0.0.1:", "http://127.0.0.1:");
    // one line per closed connection, attributed to a php worker
    assertThat(r.lines()).filteredOn(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} server .* pid=\\d+/php .*"))
        .hasSizeGreaterThanOrEqualTo(9 + 6);
    // every worker's own count equals the kernel's
    Matcher m = Pattern.compile("(\\w+) (\\d+): kernel saw (\\d+) opened, it accepted (\\d+)").matcher(r.stdout());
    int workers = 0;
    while (m.find()) {
      workers++;
      assertThat(m.group(3)).as("worker %s %s", m.group(1), m.group(2)).isEqualTo(m.group(4));
    }
    assertThat(workers).isEqualTo(4);
    // bytes the clients sent and received equal what the kernel saw
    Matcher c = Pattern.compile("(\\d+) bytes sent and (\\d+) received by the clients").matcher(r.stdout());
    Matcher k = Pattern.compile("(\\d+) bytes received and (\\d+) sent by the workers").matcher(r.stdout());
    assertThat(c.find() && k.find()).as(r.stdout()).isTrue();
    assertThat(k.group(1)).isEqualTo(c.group(1));
    assertThat(k.group(2)).isEqualTo(c.group(2));

    CliRun.Result echo = CliRun.wmscope(List.of("demo", "--no-php", "--connections", "3", "--seconds", "1"), Map.of(), RUN);
    assertThat(echo.exit()).as(echo.toString()).isZero();
    assertThat(echo.stderr()).contains("using a Java echo server");
    assertThat(echo.stdout()).contains("WMSCOPE STATUS", "clients: 3 connections");
  }

  @Test
  void everyCommandHasHelpAndVersion() throws Exception {
    for (String command : List.of("run", "status", "connections", "check", "demo")) {
      CliRun.Result help = CliRun.wmscope(List.of(command, "--help"), Map.of(), RUN);
      assertThat(help.exit()).as(command).isZero();
      assertThat(help.stdout()).as(command).contains("Usage: wmscope " + command, "--version", "--help");
      CliRun.Result version = CliRun.wmscope(List.of(command, "--version"), Map.of(), RUN);
      assertThat(version.exit()).isZero();
      assertThat(version.stdout()).startsWith("wmscope ").contains("libbpf", "kernel");
    }
    CliRun.Result top = CliRun.wmscope(List.of("--help"), Map.of(), RUN);
    assertThat(top.stdout()).contains("Exit codes:", "4   another wmscope agent is already running");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }
}
