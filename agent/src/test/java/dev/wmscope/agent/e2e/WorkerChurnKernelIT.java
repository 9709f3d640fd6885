package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Workerman does to its workers, with connections open, under the packaged agent: reloads
 * (every worker replaced), a worker killed and re-forked by its master, the master stopped and
 * started again. The exported series follow the live processes only (no stale pids once the
 * retention has passed) and the gauges come back to the true number of open connections.
 */
@KernelTest
class WorkerChurnKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int RELOADS = 10;
  private static final int WORKERS = 2;

  private static AgentProcess agent(OtlpHttpReceiver receiver) throws Exception {
    var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms",
        "--series-retention", "1s", "--http-address", "none"), Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL", "200",
        "OTEL_TRACES_EXPORTER", "none"));
    agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
    return agent;
  }

  /**
   * The pids of a metric's points on the port in the newest export (a metric with no series
   * left is absent from it, so this does not look at older exports).
   */
  private static Set<Long> exportedPids(OtlpHttpReceiver receiver, String metric, int port) {
    List<ResourceMetrics> all = receiver.metrics();
    if (all.isEmpty()) {
      return Set.of();
    }
    return all.getLast().getScopeMetricsList().stream()
        .flatMap(sm -> sm.getMetricsList().stream())
        .filter(m -> m.getName().equals(metric))
        .flatMap(m -> m.hasSum() ? m.getSum().getDataPointsList().stream() : m.getGauge().getDataPointsList().stream())
        .map(MetricQuery::attributes)
        .filter(a -> String.valueOf(port).equals(a.get("server.port")))
        .map(a -> a.get("process.pid"))
        .filter(p -> p != null)
        .map(Long::valueOf)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static <T> T await(String what, Supplier<T> probe) throws InterruptedException {
    return WorkermanStandin.await(WAIT, what, probe);
  }

  private static void awaitActive(OtlpHttpReceiver receiver, int port, long expected) throws InterruptedException {
    long[] last = {-1};
    try {
      await("active connections on port " + port + " = " + expected, () -> {
        last[0] = MetricQuery.sum(receiver, "wmscope.connection.active", Map.of("server.port", String.valueOf(port)));
        return last[0] == expected ? Boolean.TRUE : null;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError("active: last exported " + last[0] + ", expected " + expected, e);
    }
  }

  /** Waits until the newest export's counter series of the port belong exactly to {@code pids}. */
  private static void awaitSeriesOf(OtlpHttpReceiver receiver, int port, Set<Long> pids) throws InterruptedException {
    Set<Long>[] last = new Set[] {Set.of()};
    try {
      await("series of exactly " + pids, () -> {
        last[0] = exportedPids(receiver, "wmscope.connection.opened", port);
        return last[0].equals(pids) && exportedPids(receiver, "wmscope.connection.active", port).equals(pids)
            && exportedPids(receiver, "wmscope.tcp.retransmits", port).equals(pids) ? Boolean.TRUE : null;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError("exported pids " + last[0] + ", expected " + pids, e);
    }
  }

  /** The workers that accepted at least one connection (by their own stats): those have series. */
  private static Set<Long> served(WorkermanStandin app, List<Integer> workers) {
    return workers.stream().filter(p -> app.workerStats(p).orElseThrow().getLong("accepted") > 0)
        .map(Integer::longValue).collect(Collectors.toCollection(TreeSet::new));
  }

  /** How many of the clients the server side closed (EOF within 2 s); the others stay open. */
  private static int cutByServer(TextClients clients) throws IOException {
    int cut = 0;
    for (TextClients.Client c : clients.clients()) {
      c.socket().setSoTimeout(2_000);
      try {
        if (c.socket().getInputStream().read() < 0) {
          cut++;
        }
      } catch (java.net.SocketTimeoutException stillOpen) {
        // open
      } catch (java.net.SocketException reset) {
        cut++;
      }
    }
    return cut;
  }

  /** Connections each worker accepted, from its own stats, against the exported opened counter. */
  private static void assertOpenedMatchesWhatEachWorkerAccepted(OtlpHttpReceiver receiver, WorkermanStandin app,
      int port, List<Integer> workers) throws InterruptedException {
    for (int pid : workers) {
      long accepted = app.workerStats(pid).orElseThrow().getLong("accepted");
      await("opened of worker " + pid + " = " + accepted, () -> MetricQuery.sum(receiver, "wmscope.connection.opened",
          Map.of("server.port", String.valueOf(port), "process.pid", String.valueOf(pid))) == accepted ? Boolean.TRUE : null);
    }
  }

  @Test
  void reloadsCrashesAndRestartsLeaveOnlyTheLiveWorkersSeriesAndTrueGauges(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var receiver = new OtlpHttpReceiver(); AgentProcess agent = agent(receiver)) {
      List<Integer> workers;
      try (var app = WorkermanStandin.create(Files.createDirectories(dir.resolve("a")),
          List.of(WorkermanStandin.worker("Api", "text://127.0.0.1:" + port, WORKERS, false)))) {
        app.start(false);
        workers = app.awaitWorkers(WORKERS, Set.of(), WAIT);
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(port)), 10_000);

        // reloads, each with connections held open across it: the old workers cut them
        Set<Integer> everyPid = new HashSet<>(workers);
        for (int r = 0; r < RELOADS; r++) {
          try (var held = new TextClients().open(port, null, 5, 6, 7)) {
            awaitActive(receiver, port, 3);
            assertThat(app.run(WAIT, "reload")).isZero();
            workers = app.awaitWorkers(WORKERS, new HashSet<>(workers), WAIT);
            everyPid.addAll(workers);
            assertThat(cutByServer(held)).as("connections the reload cut").isEqualTo(3);
          }
          try (var fresh = new TextClients().open(port, null, 4, 4)) {
            // the cut connections are closed, not leaked; the new ones counted
            awaitActive(receiver, port, 2);
          }
        }
        assertThat(everyPid).hasSize(WORKERS * (RELOADS + 1));
        awaitActive(receiver, port, 0);
        awaitSeriesOf(receiver, port, served(app, workers));
        assertOpenedMatchesWhatEachWorkerAccepted(receiver, app, port, workers);

        // a worker killed with connections open: the kernel closes them, the master re-forks
        try (var held = new TextClients().open(port, null, 3, 3, 3, 3)) {
          awaitActive(receiver, port, 4);
          int victim = workers.getFirst();
          new ProcessBuilder("kill", "-9", Integer.toString(victim)).start().waitFor();
          List<Integer> before = workers;
          workers = await("a re-forked worker", () -> {
            List<Integer> now = app.workerPids();
            return now.size() == WORKERS && !now.contains(victim)
                && now.stream().allMatch(p -> app.workerStats(p).map(s -> s.getBoolean("alive")).orElse(false))
                ? now : null;
          });
          assertThat(workers).containsAll(before.stream().filter(p -> p != victim).toList());
          int cut = cutByServer(held);
          awaitActive(receiver, port, 4 - cut);
          awaitSeriesOf(receiver, port, served(app, workers));
        }
        awaitActive(receiver, port, 0);
        // the re-forked worker has no connection yet, so no series; one request gives it one
        try (var more = new TextClients().open(port, null, 2, 2, 2, 2, 2, 2)) {
          awaitActive(receiver, port, 6);
        }
        awaitActive(receiver, port, 0);

        // the master stopped with connections open: everything closes, every series goes
        var held = new TextClients().open(port, null, 8, 8);
        awaitActive(receiver, port, 2);
        assertThat(app.run(WAIT, "stop")).isZero();
        await("the app gone", () -> app.ownProcesses().isEmpty() ? Boolean.TRUE : null);
        awaitActive(receiver, port, 0);
        awaitSeriesOf(receiver, port, Set.of());
        held.close();
      }
      // ... and started again on the same port: its new workers, counted from zero
      try (var again = WorkermanStandin.create(Files.createDirectories(dir.resolve("b")),
          List.of(WorkermanStandin.worker("Api", "text://127.0.0.1:" + port, WORKERS, false)))) {
        again.start(false);
        List<Integer> restarted = again.awaitWorkers(WORKERS, new HashSet<>(workers), WAIT);
        agent.awaitStderr(l -> l.contains("found Workerman app " + again.startFile()), 10_000);
        try (var clients = new TextClients().open(port, null, 9, 9, 9)) {
          awaitActive(receiver, port, 3);
        }
        awaitActive(receiver, port, 0);
        assertOpenedMatchesWhatEachWorkerAccepted(receiver, again, port, restarted);
        awaitSeriesOf(receiver, port, served(again, restarted));
      }
      assertThat(agent.stderr()).noneMatch(l -> l.contains("ERROR") || l.contains("\tat "));
    }
  }
}
