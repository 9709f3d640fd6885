package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.AgentLock;
import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.BpfSystem;
import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start, stop and the one-agent-per-host rule, with the packaged agent. "Nothing attached" is
 * checked for the programs this agent held (read from its /proc/PID/fdinfo), so agents of
 * other test runs on the same host cannot make the check pass or fail.
 */
@KernelTest
class LifecycleKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  /** Ids of the BPF programs a process holds (prog fds and links name their program). */
  static Set<Integer> programsHeldBy(long pid) throws IOException {
    Set<Integer> ids = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fdinfo"))) {
      for (Path fd : fds.toList()) {
        try {
          for (String line : Files.readAllLines(fd)) {
            if (line.startsWith("prog_id:")) {
              ids.add(Integer.parseInt(line.substring(8).strip()));
            }
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return ids;
  }

  /** Which of these programs are still loaded, after up to 5 s (the kernel frees them after RCU). */
  static Set<Integer> stillLoaded(Set<Integer> ids) throws InterruptedException {
    Set<Integer> left = ids;
    for (int i = 0; i < 100; i++) {
      Set<Integer> loaded = BpfSystem.programs().stream().map(BpfSystem.LoadedProgram::id).collect(Collectors.toSet());
      left = ids.stream().filter(loaded::contains).collect(Collectors.toSet());
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(50);
    }
    return left;
  }

  @Test
  void aSecondAgentIsRefusedAndExplainedWhileTheFirstRuns(@TempDir Path dir) throws Exception {
    Path lock = dir.resolve("run/wmscope.lock");
    try (var first = new AgentProcess(List.of("run", "--lock-file", lock.toString()), Map.of())) {
      first.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      int http = first.httpPort(5_000);
      // the lock names the bound port once startup completes, a moment after the HTTP log line
      String expected = "http=127.0.0.1:" + http;
      for (int i = 0; i < 100 && !Files.readString(lock).contains(expected); i++) {
        Thread.sleep(50);
      }
      assertThat(Files.readString(lock)).contains("pid=" + first.pid(), expected);

      try (var second = new AgentProcess(List.of("run", "--lock-file", lock.toString(), "--http-address", "none"), Map.of())) {
        assertThat(second.awaitExit(30_000)).as("exit code of the second agent").isEqualTo(4);
        assertThat(second.stderr()).anySatisfy(l -> assertThat(l).contains(
            "another wmscope agent is already running on this host (pid " + first.pid() + ", HTTP 127.0.0.1:" + http));
        assertThat(second.stderr()).anySatisfy(l -> assertThat(l).startsWith("hint: stop it first"));
        assertThat(second.stderr()).noneMatch(l -> l.contains("attached sock_ops") || l.contains("\tat "));
      }
      assertThat(first.isAlive()).isTrue();
      assertThat(CliRun.get(http, "/readyz").statusCode()).isEqualTo(200);
      assertThat(first.terminate(15_000)).isZero();
    }
    // the lock went with the process: a new agent starts
    assertThat(AgentLock.holder(lock)).isEmpty();
    try (var again = new AgentProcess(List.of("run", "--lock-file", lock.toString(), "--http-address", "none"), Map.of())) {
      again.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      assertThat(again.terminate(15_000)).isZero();
    }
  }

  @Test
  void sigtermDuringTrafficExitsZeroAndDetachesEverything(@TempDir Path dir) throws Exception {
    try (var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port()), "--log-format", "json"),
            Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      int http = agent.httpPort(5_000);
      Set<Integer> programs = programsHeldBy(agent.pid());
      assertThat(programs).as("programs the agent holds").isNotEmpty();
      Await.until(java.time.Duration.ofSeconds(10), "/readyz", () -> {
        try {
          return CliRun.get(http, "/readyz").statusCode();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, 200);
      Thread traffic = Thread.ofPlatform().start(() -> {
        for (int i = 0; i < 200 && !Thread.currentThread().isInterrupted(); i++) {
          try {
            LoopbackTraffic.exchange(V4, server.port(), 100 + i);
          } catch (IOException e) {
            return;
          }
        }
      });
      Thread.sleep(300);
      long started = System.nanoTime();
      assertThat(agent.terminate(10_000)).as("exit code after SIGTERM").isZero();
      assertThat((System.nanoTime() - started) / 1_000_000).as("ms to stop").isLessThan(10_000);
      traffic.interrupt();
      traffic.join(10_000);
      assertThat(stillLoaded(programs)).as("programs left after the agent stopped").isEmpty();
      assertThat(AgentLock.holder(agent.lockFile())).isEmpty();
      // --log-format json: every line is one JSON object with the usual message
      assertThat(agent.stderr()).isNotEmpty().allSatisfy(l -> assertThat(new JsonObject(l).fieldNames())
          .contains("time", "level", "logger", "message"));
      assertThat(agent.stderr()).anySatisfy(l -> assertThat(new JsonObject(l).getString("message")).isEqualTo("stopping"));
      assertThat(agent.stderr()).anySatisfy(l -> assertThat(new JsonObject(l).getString("message"))
          .isEqualTo("detached BPF programs"));
    }
  }

  /** Waits until the agent attached, runs 5 exchanges through it, returns the programs it holds. */
  private static Set<Integer> attachedAndBusy(AgentProcess agent, LoopbackTraffic.Server server) throws Exception {
    agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
    Set<Integer> programs = programsHeldBy(agent.pid());
    assertThat(programs).as("programs the agent holds").isNotEmpty();
    LoopbackTraffic.exchanges(V4, server.port(), 5, 10, 1);
    return programs;
  }

  @Test
  void sighupStopsLikeSigtermExitZeroDetached() throws Exception {
    try (var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port())), Map.of())) {
      Set<Integer> programs = attachedAndBusy(agent, server);
      new ProcessBuilder("kill", "-HUP", Long.toString(agent.pid())).start().waitFor();
      assertThat(agent.awaitExit(15_000)).as("exit code after SIGHUP (not 129)").isZero();
      assertThat(agent.stderr()).anyMatch(l -> l.contains("SIGHUP received"))
          .anyMatch(l -> l.contains("detached BPF programs"));
      assertThat(stillLoaded(programs)).as("programs left after SIGHUP").isEmpty();
    }
  }

  @Test
  void sigkillLeavesNoProgramOfTheAgentLoaded() throws Exception {
    try (var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port())), Map.of())) {
      Set<Integer> programs = attachedAndBusy(agent, server);
      agent.kill();
      assertThat(stillLoaded(programs)).as("programs left after SIGKILL").isEmpty();
    }
  }

  /**
   * The agent killed with SIGKILL in the middle of connection churn, then started again: nothing
   * of the first is left in the kernel, and the second adopts the connections that stayed open
   * across the restart: each once (active exact, one close record each), with the bytes that
   * moved after it started exact.
   */
  @Test
  void sigkillDuringChurnThenARestartAdoptsTheOpenConnectionsOnce() throws Exception {
    int held = 40;
    List<Socket[]> pairs = new ArrayList<>();
    try (var server = new LoopbackTraffic.Server(V4); ServerSocket listener = new ServerSocket(0, held, V4)) {
      String churnPort = String.valueOf(server.port());
      String heldPort = String.valueOf(listener.getLocalPort());
      List<String> args = List.of("run", "--port", churnPort, "--port", heldPort, "--poll-interval", "200ms",
          "--format", "json");
      AtomicBoolean churning = new AtomicBoolean(true);
      AtomicInteger churned = new AtomicInteger();
      Thread churn;
      try (var first = new AgentProcess(args, Map.of())) {
        Set<Integer> programs = attachedAndBusy(first, server);
        for (int i = 0; i < held; i++) {
          Socket client = new Socket(V4, listener.getLocalPort());
          Socket accepted = listener.accept();
          client.getOutputStream().write(new byte[100]);
          accepted.getInputStream().readNBytes(100);
          pairs.add(new Socket[] {client, accepted});
        }
        churn = Thread.ofPlatform().start(() -> {
          for (int i = 0; i < 5_000 && churning.get(); i++) {
            try {
              LoopbackTraffic.exchange(V4, server.port(), 10 + (i & 1));
              churned.incrementAndGet();
            } catch (IOException e) {
              return;
            }
          }
        });
        Await.until(java.time.Duration.ofSeconds(10), "churn under way", () -> churned.get() >= 200, true);
        first.kill();
        assertThat(stillLoaded(programs)).as("programs left after SIGKILL during churn").isEmpty();
      }
      try (var second = new AgentProcess(args, Map.of())) {
        second.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
        churning.set(false);
        churn.join(10_000);
        int http = second.httpPort(5_000);
        Await.until(java.time.Duration.ofSeconds(20), "the held connections adopted, once each", () ->
            AgentExportOutageKernelIT.scrape(http, "wmscope_connection_active{", "server_port=\"" + heldPort + "\""),
            (long) held);
        for (Socket[] p : pairs) {
          p[0].getOutputStream().write(new byte[1000]);
          p[1].getInputStream().readNBytes(1000);
        }
        Await.until(java.time.Duration.ofSeconds(20), "bytes received after the restart", () ->
            AgentExportOutageKernelIT.scrape(http, "wmscope_network_io_bytes_total{network_io_direction=\"receive\"",
                "server_port=\"" + heldPort + "\""), (long) held * 1000);
        for (Socket[] p : pairs) {
          p[0].close();
          p[1].close();
        }
        pairs.clear();
        WorkermanStandin.await(java.time.Duration.ofSeconds(20), "close records of the held connections",
            () -> {
              List<JsonObject> l = second.stdout().stream().map(JsonObject::new)
                  .filter(j -> String.valueOf(j.getLong("server.port")).equals(heldPort)
                      && "server".equals(j.getString("wmscope.connection.side")))
                  .toList();
              return l.size() >= held ? l : null;
            });
        Thread.sleep(1_000); // a duplicate would come within a poll or two
        List<JsonObject> all = second.stdout().stream().map(JsonObject::new)
            .filter(j -> String.valueOf(j.getLong("server.port")).equals(heldPort)
                && "server".equals(j.getString("wmscope.connection.side")))
            .toList();
        assertThat(all).hasSize(held).allSatisfy(j -> {
          assertThat(j.getBoolean("wmscope.connection.preexisting")).isTrue();
          // an adopted connection counts from its adoption on: the 1000 bytes, not the 100 before
          assertThat(j.getLong("wmscope.tcp.bytes_received")).isEqualTo(1000);
        });
        assertThat(all.stream().map(j -> j.getLong("network.peer.port")).distinct()).hasSize(held);
        assertThat(AgentExportOutageKernelIT.scrape(http, "wmscope_connection_active{",
            "server_port=\"" + heldPort + "\"")).isZero();
        assertThat(second.terminate(15_000)).isZero();
      }
    } finally {
      for (Socket[] p : pairs) {
        p[0].close();
        p[1].close();
      }
    }
  }
}
