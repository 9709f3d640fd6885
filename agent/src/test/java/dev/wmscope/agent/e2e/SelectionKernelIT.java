package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent run with each selection flag against plain (not Workerman) PHP servers whose
 * connections the test makes itself, and with no flag against a Workerman app that stops:
 * exactly the selected processes' connections are reported, nothing else.
 */
@KernelTest
class SelectionKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  /** Long enough for a record of a closed loopback connection to reach stdout. */
  private static final long QUIET_MILLIS = 1_000;

  @BeforeAll
  static void phpPresent() {
    assertThat(WorkermanStandin.phpExecutable()).as("php-cli (apt-get install php-cli)").isPresent();
  }

  private static AgentProcess agent(String... selection) throws Exception {
    List<String> args = new ArrayList<>(List.of("run", "--format", "json", "--discovery-interval", "200ms",
        "--poll-interval", "200ms"));
    args.addAll(List.of(selection));
    var agent = new AgentProcess(args, Map.of());
    agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
    return agent;
  }

  private static List<JsonObject> lines(AgentProcess agent) {
    return agent.stdout().stream().map(JsonObject::new).toList();
  }

  private static List<JsonObject> awaitLines(AgentProcess agent, int count) throws InterruptedException {
    return WorkermanStandin.await(WAIT, count + " JSON lines (have " + agent.stdout() + ")", () -> {
      List<JsonObject> lines = lines(agent);
      return lines.size() >= count ? lines : null;
    });
  }

  /** Every line the agent printed, after a quiet period in which nothing more may arrive. */
  private static List<JsonObject> settledLines(AgentProcess agent, int count) throws InterruptedException {
    awaitLines(agent, count);
    Thread.sleep(QUIET_MILLIS);
    return lines(agent);
  }

  private static Predicate<String> watchedPortsAdded(int port) {
    return l -> l.contains("watched ports now") && addedPart(l).contains(String.valueOf(port));
  }

  private static Predicate<String> watchedPortsRemoved(int port) {
    return l -> l.contains("watched ports now") && removedPart(l).contains(String.valueOf(port));
  }

  /** "watched ports now [a, b] (+[b] -[c])" -> "[b]". */
  private static String addedPart(String line) {
    int plus = line.lastIndexOf("(+");
    int minus = line.lastIndexOf(" -[");
    return plus < 0 || minus < plus ? "" : line.substring(plus + 2, minus);
  }

  private static String removedPart(String line) {
    int minus = line.lastIndexOf(" -[");
    return minus < 0 ? "" : line.substring(minus + 2);
  }

  private static long count(List<JsonObject> lines, String side, long port) {
    return lines.stream().filter(j -> side.equals(j.getString("wmscope.connection.side"))
        && j.getLong("server.port") == port).count();
  }

  /**
   * A plain server that selection picked: {@code hellos} accepted connections plus the one that
   * asked it to connect out to {@code target}, and that outbound connection; all of them with
   * its pid, and not a line more.
   */
  private static void assertOnlyThisServer(List<JsonObject> lines, PhpLineServer server, int hellos, int target) {
    assertThat(lines).as("lines: %s", lines).hasSize(hellos + 2)
        .allSatisfy(j -> assertThat(j.getLong("process.pid")).isEqualTo(server.pid()));
    assertThat(count(lines, "server", server.port())).isEqualTo(hellos + 1);
    assertThat(lines).filteredOn(j -> j.getString("wmscope.connection.side").equals("client")).singleElement()
        .satisfies(j -> {
          assertThat(j.getLong("server.port")).isEqualTo(target);
          assertThat(j.getLong("wmscope.tcp.bytes_sent")).isEqualTo(5); // "ping\n"
          assertThat(j.getLong("wmscope.tcp.bytes_received")).isEqualTo(5); // echoed
          assertThat(j.getString("process.executable.name")).isEqualTo("php");
          assertThat(j.getBoolean("wmscope.connection.internal")).isFalse();
        });
    assertThat(lines).filteredOn(j -> j.getString("wmscope.connection.side").equals("server"))
        .allSatisfy(j -> assertThat(j.getBoolean("wmscope.connection.internal")).isFalse());
  }

  /**
   * Traffic for the selection tests: first connections of the bystander (must not appear), then
   * {@code hellos} exchanges with the selected server and one outbound connection it makes to
   * the bystander.
   */
  private static void traffic(PhpLineServer selected, PhpLineServer bystander, int hellos) throws IOException {
    for (int i = 0; i < 3; i++) {
      assertThat(bystander.request("other " + i)).isEqualTo("other " + i);
    }
    for (int i = 0; i < hellos; i++) {
      assertThat(selected.request("hello " + i)).isEqualTo("hello " + i);
    }
    assertThat(selected.request("connect 127.0.0.1:" + bystander.port())).isEqualTo("connected ping");
  }

  @Test
  void cgroupAloneWatchesEveryConnectionInsideAndNothingOutside(@TempDir Path dir) throws Exception {
    Path root = CgroupV2.findMount().orElseThrow();
    Path cgroup = Files.createDirectory(root.resolve("wmscope-it-" + UUID.randomUUID()));
    PhpLineServer inside = null;
    AgentProcess agent = null;
    try (ServerSocket outside = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // the server joins the cgroup before it execs php, so its listener is created inside
      inside = PhpLineServer.start(dir, "in-cgroup",
          List.of("sh", "-c", "echo $$ > \"$0\"/cgroup.procs && exec \"$@\"", cgroup.toString()));
      assertThat(Files.readString(Path.of("/proc", Long.toString(inside.pid()), "cgroup")))
          .contains("::/" + root.relativize(cgroup));
      agent = agent("--cgroup", cgroup.toString());
      agent.awaitStderr(l -> l.contains("watched ports now [0]"), 10_000);
      Thread.ofPlatform().daemon().start(() -> answerPings(outside));

      // this JVM (outside) connects to its own server: not in the cgroup, never seen
      for (int i = 0; i < 3; i++) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), outside.getLocalPort()), 5_000);
          s.getOutputStream().write("ping\n".getBytes());
          assertThat(s.getInputStream().readNBytes(5)).isEqualTo("ping\n".getBytes());
        }
      }
      // the server inside: every connection it accepts (on any port) and one it opens to the
      // server outside, whose accepted end is outside and so not seen
      for (int i = 0; i < 4; i++) {
        assertThat(inside.request("hello " + i)).isEqualTo("hello " + i);
      }
      assertThat(inside.request("connect 127.0.0.1:" + outside.getLocalPort())).isEqualTo("connected ping");

      List<JsonObject> lines = settledLines(agent, 6);
      long pid = inside.pid();
      assertThat(lines).as("lines: %s", lines).hasSize(6)
          .allSatisfy(j -> assertThat(j.getLong("process.pid")).isEqualTo(pid));
      assertThat(count(lines, "server", inside.port())).isEqualTo(5);
      assertThat(count(lines, "client", outside.getLocalPort())).isEqualTo(1);
    } finally {
      if (agent != null) {
        agent.close();
      }
      if (inside != null) {
        inside.close();
      }
      removeCgroup(cgroup);
    }
  }

  /** Answers "ping\n" with "ping\n" on every connection, until the socket closes. */
  private static void answerPings(ServerSocket server) {
    while (!server.isClosed()) {
      try (Socket c = server.accept()) {
        c.setSoTimeout(5_000);
        c.getOutputStream().write(c.getInputStream().readNBytes(5));
      } catch (IOException e) {
        // closed, or a client gave up
      }
    }
  }

  /** rmdir, retried for a moment: the cgroup is busy until its last process has been reaped. */
  private static void removeCgroup(Path cgroup) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        Files.deleteIfExists(cgroup);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("rmdir " + cgroup + ": " + e.getMessage(), e);
        }
        Thread.sleep(50);
      }
    }
  }

  @Test
  void pidWatchesItsListenersAndItsOutboundConnectionsOnly(@TempDir Path dir) throws Exception {
    try (PhpLineServer selected = PhpLineServer.start(dir, "selected");
        PhpLineServer bystander = PhpLineServer.start(dir, "bystander");
        AgentProcess agent = agent("--pid", Long.toString(selected.pid()))) {
      agent.awaitStderr(watchedPortsAdded(selected.port()), 10_000);

      traffic(selected, bystander, 4);

      assertOnlyThisServer(settledLines(agent, 6), selected, 4, bystander.port());
    }
  }

  @Test
  void processNameWatchesMatchingProcessesIncludingOnesStartedLater(@TempDir Path dir) throws Exception {
    String tag = "wmscope-it-" + UUID.randomUUID().toString().substring(0, 8);
    // "$" anchors at the end of the command line as ps shows it (no trailing NUL)
    try (PhpLineServer first = PhpLineServer.start(dir, tag);
        PhpLineServer bystander = PhpLineServer.start(dir, "bystander");
        AgentProcess agent = agent("--process-name", " " + tag + "$")) {
      agent.awaitStderr(watchedPortsAdded(first.port()), 10_000);

      traffic(first, bystander, 3);
      List<JsonObject> lines = settledLines(agent, 5);
      assertOnlyThisServer(lines, first, 3, bystander.port());

      // a matching process started after the agent: watched from the next discovery pass (the
      // bound is many 200 ms intervals: the test machine may be busy, and a missed pickup
      // would never come)
      try (PhpLineServer late = PhpLineServer.start(dir, tag)) {
        agent.awaitStderr(watchedPortsAdded(late.port()), 10_000);
        assertThat(late.request("late")).isEqualTo("late");
        JsonObject j = WorkermanStandin.await(WAIT, "the late server's line", () -> lines(agent).stream()
            .filter(l -> l.getLong("server.port") == late.port()).findFirst().orElse(null));
        assertThat(j.getLong("process.pid")).isEqualTo(late.pid());
        assertThat(j.getString("wmscope.connection.side")).isEqualTo("server");
        late.close();
        // and once it exits it is unwatched
        agent.awaitStderr(watchedPortsRemoved(late.port()), 5_000);
      }
    }
  }

  @Test
  void aWorkermanAppThatStopsHasItsPortUnwatched(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (AgentProcess agent = agent();
        var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Api", "text://127.0.0.1:" + port, 2, false)))) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      int master = app.masterPid();
      agent.awaitStderr(l -> l.contains("found Workerman app " + app.startFile()), 10_000);
      agent.awaitStderr(watchedPortsAdded(port), 10_000);
      assertThat(PhpLineServer.request(port, "before")).isEqualTo("before");
      assertThat(awaitLines(agent, 1)).singleElement().satisfies(j -> {
        assertThat(workers).contains(j.getInteger("process.pid"));
        assertThat(j.getLong("server.port")).isEqualTo(port);
      });

      assertThat(app.run(WAIT, "stop")).isZero();
      agent.awaitStderr(l -> l.contains("Workerman app " + app.startFile() + " (master " + master + ") stopped"), 10_000);
      agent.awaitStderr(watchedPortsRemoved(port), 10_000);
      assertThat(WorkermanStandin.isRunning(master)).isFalse();

      // another process (this JVM) listens on the port now: its connections are not the app's
      try (ServerSocket later = new ServerSocket()) {
        later.setReuseAddress(true);
        later.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        Thread.ofPlatform().daemon().start(() -> answerPings(later));
        for (int i = 0; i < 3; i++) {
          try (Socket s = new Socket()) {
            s.connect(later.getLocalSocketAddress(), 5_000);
            s.getOutputStream().write("ping\n".getBytes());
            assertThat(s.getInputStream().readNBytes(5)).isEqualTo("ping\n".getBytes());
          }
        }
        Thread.sleep(QUIET_MILLIS);
      }
      assertThat(lines(agent)).as("lines after the app stopped").hasSize(1);
    }
  }
}
