package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.AgentLock;
import dev.wmscope.loader.BpfSystem;
import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
}
