package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.demo.EchoServer;
import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent with no selection flags against the Workerman stand-in: discovery finds the app
 * (started after the agent), and every connection is attributed to the worker process that
 * served it, matching what each worker counted itself. Reload, outbound and internal traffic.
 */
@KernelTest
class WorkermanKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  @BeforeAll
  static void phpPresent() {
    assertThat(WorkermanStandin.phpExecutable()).as("php-cli (apt-get install php-cli)").isPresent();
  }

  private static AgentProcess agent() throws Exception {
    var agent = new AgentProcess(List.of("run", "--format", "json", "--discovery-interval", "200ms"), Map.of());
    agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
    return agent;
  }

  /** One text-protocol exchange: sends a line, returns the reply line. */
  private static String textRequest(int port, String line) throws IOException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(5_000);
      s.connect(new InetSocketAddress(V4, port), 2_000);
      OutputStream out = s.getOutputStream();
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }
  }

  private static List<JsonObject> awaitLines(AgentProcess agent, Predicate<JsonObject> match, int count)
      throws InterruptedException {
    return WorkermanStandin.await(WAIT, count + " JSON lines", () -> {
      List<JsonObject> lines = agent.stdout().stream().map(JsonObject::new).filter(match).toList();
      return lines.size() >= count ? lines : null;
    });
  }

  /**
   * Waits until a discovery pass has seen every one of {@code workers}: its worker set is logged
   * as exactly them, or (for the first workers of an app, not after a reload) the app is found
   * with that many. The stand-in forks (and on reload replaces) workers one at a time, so an
   * earlier line may list only some, and a worker the agent has not seen yet serves
   * connections without a Workerman identity.
   */
  private static void awaitAllWorkersKnown(AgentProcess agent, WorkermanStandin app, List<Integer> workers,
      boolean firstWorkers) throws InterruptedException {
    String found = "found Workerman app " + app.startFile() + " (master " + app.masterPid() + "): "
        + workers.size() + " workers";
    String now = "Workerman app " + app.startFile() + " (master " + app.masterPid() + "): workers now "
        + new java.util.TreeSet<>(workers);
    agent.awaitStderr(l -> (firstWorkers && l.contains(found)) || l.contains(now), 10_000);
  }

  private static Predicate<JsonObject> serverPort(int port) {
    return j -> j.getLong("server.port") == port && "server".equals(j.getString("wmscope.connection.side"));
  }

  @Test
  void reusePortWorkersGetExactlyTheConnectionsTheyCounted(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (AgentProcess agent = agent();
        var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Chat Worker", "text://127.0.0.1:" + port, 4, true)))) {
      app.start(false); // after the agent: discovery must pick it up
      List<Integer> workers = app.awaitWorkers(4, Set.of(), WAIT);
      awaitAllWorkersKnown(agent, app, workers, true);
      agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(port)), 10_000);

      int n = 80;
      for (int i = 0; i < n; i++) {
        assertThat(textRequest(port, "hello " + i)).isEqualTo("hello " + i);
      }

      List<JsonObject> lines = awaitLines(agent, serverPort(port), n);
      assertThat(lines).hasSize(n).allSatisfy(j -> {
        assertThat(workers).contains(j.getInteger("process.pid"));
        assertThat(j.getString("workerman.worker.name")).isEqualTo("Chat Worker");
        assertThat(j.getString("workerman.worker.listen")).isEqualTo("text://127.0.0.1:" + port);
        assertThat(j.getLong("workerman.master.pid")).isEqualTo(app.masterPid());
        assertThat(j.getString("workerman.start_file")).isEqualTo(app.startFile());
        assertThat(j.getString("workerman.role")).isEqualTo("worker");
        assertThat(j.getBoolean("wmscope.connection.internal")).isFalse();
        assertThat(j.getString("process.executable.name")).isEqualTo("php");
      });
      Map<Integer, Long> perWorker = lines.stream().collect(Collectors.groupingBy(j -> j.getInteger("process.pid"), Collectors.counting()));
      for (int pid : workers) {
        long counted = app.workerStats(pid).orElseThrow().getLong("accepted");
        assertThat(perWorker.getOrDefault(pid, 0L)).as("connections attributed to worker %d", pid).isEqualTo(counted);
      }
      assertThat(perWorker.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(n);
    }
  }

  @Test
  void sharedSocketAfterReloadAttributesOnlyToTheNewWorkers(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Api", "text://127.0.0.1:" + port, 3, false)));
        AgentProcess agent = agent()) {
      app.start(false);
      List<Integer> before = app.awaitWorkers(3, Set.of(), WAIT);
      agent.awaitStderr(l -> l.contains("found Workerman app " + app.startFile()), 10_000);
      agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(port)), 10_000);
      for (int i = 0; i < 30; i++) {
        textRequest(port, "a" + i);
      }
      List<JsonObject> first = awaitLines(agent, serverPort(port), 30);
      assertThat(first).allSatisfy(j -> assertThat(before).contains(j.getInteger("process.pid")));

      assertThat(app.run(WAIT, "reload")).isZero();
      List<Integer> after = app.awaitWorkers(3, new HashSet<>(before), WAIT);
      awaitAllWorkersKnown(agent, app, after, false);
      for (int i = 0; i < 30; i++) {
        textRequest(port, "b" + i);
      }
      List<JsonObject> all = awaitLines(agent, serverPort(port), 60);
      List<JsonObject> second = all.subList(30, 60);
      assertThat(second).allSatisfy(j -> {
        assertThat(after).contains(j.getInteger("process.pid"));
        assertThat(before).doesNotContain(j.getInteger("process.pid"));
        assertThat(j.getString("workerman.worker.name")).isEqualTo("Api");
      });
      long countedByNew = after.stream().mapToLong(p -> app.workerStats(p).orElseThrow().getLong("accepted")).sum();
      assertThat(countedByNew).isEqualTo(30);
    }
  }

  /**
   * With reusePort every worker has a listener of its own, and a reload replaces them all. The
   * live reads between full walks see only the listeners a full walk marked, so the new
   * workers' listeners must appear (and the old ones go) after the watch change of the reload.
   */
  @Test
  void afterAReusePortReloadTheListenersAreTheNewWorkersOwn(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Chat", "text://127.0.0.1:" + port, 2, true)));
        AgentProcess agent = agent()) {
      int http = agent.httpPort(10_000);
      app.start(false);
      List<Integer> before = app.awaitWorkers(2, Set.of(), WAIT);
      awaitAllWorkersKnown(agent, app, before, true);
      Await.until(WAIT, "a listener held by each worker", () -> listenerPids(http, port), Set.copyOf(before));

      assertThat(app.run(WAIT, "reload")).isZero();
      List<Integer> after = app.awaitWorkers(2, new HashSet<>(before), WAIT);
      awaitAllWorkersKnown(agent, app, after, false);
      // the watch change forces a full walk at the next read (1 s), well before the periodic one (10 s)
      Await.until(Duration.ofSeconds(5), "the new workers' listeners only", () -> listenerPids(http, port),
          Set.copyOf(after));
      assertThat(textRequest(port, "after reload")).isEqualTo("after reload");
    }
  }

  private static Set<Integer> listenerPids(int http, int port) {
    return CliRun.json(http, "/api/listeners").getJsonArray("listeners").stream().map(JsonObject.class::cast)
        .filter(l -> l.getInteger("port") == port).map(l -> l.getInteger("pid")).collect(Collectors.toSet());
  }

  @Test
  void outboundAndInternalConnectionsAreClientSideOfTheWorker(@TempDir Path dir) throws Exception {
    int gatewayPort = WorkermanStandin.freePort();
    int businessPort = WorkermanStandin.freePort();
    try (var backend = EchoServer.start();
        var app = WorkermanStandin.create(dir, List.of(
            WorkermanStandin.worker("ChatGateway", "text://127.0.0.1:" + gatewayPort, 1, false),
            WorkermanStandin.worker("ChatBusinessWorker", "text://127.0.0.1:" + businessPort, 1, false)));
        AgentProcess agent = agent()) {
      app.start(false);
      app.awaitWorkers(2, Set.of(), WAIT);
      agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(businessPort))
          && l.contains(String.valueOf(gatewayPort)), 10_000);
      int gatewayPid = app.masterJson().orElseThrow().getJsonArray("workers").stream()
          .map(JsonObject.class::cast).filter(w -> w.getString("name").equals("ChatGateway"))
          .findFirst().orElseThrow().getInteger("pid");
      Thread.sleep(400); // two discovery passes: the worker pids are in watched_pids

      // an external backend (like Redis): client side, not internal
      assertThat(textRequest(gatewayPort, "connect 127.0.0.1:" + backend.port())).isEqualTo("connected ping");
      JsonObject out = awaitLines(agent, j -> j.getLong("server.port") == backend.port(), 1).getFirst();
      assertThat(out.getString("wmscope.connection.side")).isEqualTo("client");
      assertThat(out.getInteger("process.pid")).isEqualTo(gatewayPid);
      assertThat(out.getString("workerman.worker.name")).isEqualTo("ChatGateway");
      assertThat(out.getString("workerman.role")).isEqualTo("gateway");
      assertThat(out.getLong("wmscope.tcp.bytes_sent")).isEqualTo(5);
      assertThat(out.getLong("wmscope.tcp.bytes_received")).isEqualTo(5);
      assertThat(out.getBoolean("wmscope.connection.internal")).isFalse();

      // gateway to business worker on this host: both ends internal
      assertThat(textRequest(gatewayPort, "connect 127.0.0.1:" + businessPort)).isEqualTo("connected ping");
      List<JsonObject> internal = awaitLines(agent, j -> j.getLong("server.port") == businessPort, 2);
      assertThat(internal).extracting(j -> j.getString("wmscope.connection.side")).containsExactlyInAnyOrder("client", "server");
      assertThat(internal).allSatisfy(j -> assertThat(j.getBoolean("wmscope.connection.internal")).isTrue());
      assertThat(internal).filteredOn(j -> j.getString("wmscope.connection.side").equals("server"))
          .singleElement().satisfies(j -> assertThat(j.getString("workerman.worker.name")).isEqualTo("ChatBusinessWorker"));

      // the client connections to the gateway itself are plain client traffic
      assertThat(awaitLines(agent, serverPort(gatewayPort), 2))
          .allSatisfy(j -> assertThat(j.getBoolean("wmscope.connection.internal")).isFalse());
    }
  }
}
