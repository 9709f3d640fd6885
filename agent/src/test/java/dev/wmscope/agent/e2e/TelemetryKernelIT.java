package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue-4 telemetry through the packaged agent: metrics read at the OTLP wire while connections
 * stay open, JSON lines when they close.
 */
@KernelTest
class TelemetryKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  private static AgentProcess agent(OtlpHttpReceiver receiver, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("run", "--format", "json", "--discovery-interval", "200ms",
        "--poll-interval", "200ms"));
    cmd.addAll(List.of(args));
    var agent = new AgentProcess(cmd, Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL", "200",
        "OTEL_BSP_SCHEDULE_DELAY", "100"));
    agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
    return agent;
  }

  private static <T> T await(String what, Supplier<T> probe) throws InterruptedException {
    return WorkermanStandin.await(WAIT, what, probe);
  }

  private static void awaitValue(String what, Supplier<Long> value, long expected) throws InterruptedException {
    long[] last = {-1};
    try {
      await(what, () -> {
        last[0] = value.get();
        return last[0] == expected ? Boolean.TRUE : null;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(what + ": last value " + last[0] + ", expected " + expected, e);
    }
  }

  @Test
  void connectionsOpenBeforeTheAgentAreReportedWithTheirWorkersAndLaterBytes(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    List<Socket> clients = new ArrayList<>();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Push", "text://127.0.0.1:" + port, 2, false)));
        var receiver = new OtlpHttpReceiver()) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      for (int i = 0; i < 100; i++) {
        Socket s = new Socket(V4, port);
        s.setSoTimeout(5000);
        clients.add(s);
        s.getOutputStream().write("hi\n".getBytes(StandardCharsets.UTF_8));
        s.getInputStream().readNBytes(3);
      }
      try (AgentProcess agent = agent(receiver)) {
        awaitValue("active connections on the port", () ->
            MetricQuery.sum(receiver, "wmscope.connection.active", Map.of("server.port", String.valueOf(port))), 100);
        for (int pid : workers) {
          long accepted = app.workerStats(pid).orElseThrow().getLong("accepted");
          awaitValue("active connections of worker " + pid, () -> MetricQuery.sum(receiver, "wmscope.connection.active",
              Map.of("server.port", String.valueOf(port), "process.pid", String.valueOf(pid), "workerman.worker.name", "Push")),
              accepted);
        }
        long later = 0;
        for (int i = 0; i < 100; i++) {
          byte[] line = ("x".repeat(i) + "\n").getBytes(StandardCharsets.UTF_8);
          clients.get(i).getOutputStream().write(line);
          clients.get(i).getInputStream().readNBytes(line.length);
          later += line.length;
        }
        long expected = later;
        awaitValue("bytes received after the agent started", () -> MetricQuery.sum(receiver, "wmscope.network.io",
            Map.of("server.port", String.valueOf(port), "network.io.direction", "receive")), expected);
        for (Socket s : clients) {
          s.close();
        }
        List<JsonObject> lines = await("100 close lines", () -> {
          var l = agent.stdout().stream().map(JsonObject::new).filter(j -> j.getLong("server.port") == port).toList();
          return l.size() >= 100 ? l : null;
        });
        assertThat(lines).hasSize(100).allSatisfy(j -> {
          assertThat(j.getBoolean("wmscope.connection.preexisting")).isTrue();
          assertThat(workers).contains(j.getInteger("process.pid"));
          assertThat(j.getString("workerman.worker.name")).isEqualTo("Push");
        });
        assertThat(lines.stream().mapToLong(j -> j.getLong("wmscope.tcp.bytes_received")).sum()).isEqualTo(expected);
        awaitValue("bytes received in total (no double count at close)", () -> MetricQuery.sum(receiver,
            "wmscope.network.io", Map.of("server.port", String.valueOf(port), "network.io.direction", "receive")), expected);
      }
    } finally {
      for (Socket s : clients) {
        s.close();
      }
    }
  }

  @Test
  void aWorkerThatStopsReadingIsStalledAndRecovers(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Slow", "text://127.0.0.1:" + port, 1, false)));
        var receiver = new OtlpHttpReceiver()) {
      app.start(false);
      int pid = app.awaitWorkers(1, Set.of(), WAIT).getFirst();
      try (AgentProcess agent = agent(receiver, "--stall-threshold", "1s");
          Socket client = new Socket(V4, port)) {
        agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(port)), 10_000);
        client.setSoTimeout(5000);
        OutputStream out = client.getOutputStream();
        out.write("warm\n".getBytes(StandardCharsets.UTF_8));
        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)).readLine();
        Map<String, String> worker = Map.of("process.pid", String.valueOf(pid));
        awaitValue("stalled gauge before the stall", () -> MetricQuery.points(receiver, "wmscope.worker.stalled", worker).isEmpty()
            ? -1L : MetricQuery.sum(receiver, "wmscope.worker.stalled", worker), 0);

        Files.createFile(app.statsDir().resolve("stall-" + pid));
        Thread.sleep(500); // the worker notices the flag within ~250 ms
        long started = System.nanoTime();
        out.write("still here\n".getBytes(StandardCharsets.UTF_8)); // 11 bytes it will not read
        out.flush();
        awaitValue("stalled gauge", () -> MetricQuery.sum(receiver, "wmscope.worker.stalled", worker), 1);
        long detectedMillis = (System.nanoTime() - started) / 1_000_000;
        assertThat(detectedMillis).as("threshold 1 s + poll 0.2 s + export 0.2 s").isLessThan(3_000);
        assertThat(MetricQuery.sum(receiver, "wmscope.worker.queued", worker)).isEqualTo(11);
        agent.awaitStderr(l -> l.contains("worker " + pid + " (Slow) stalled"), 5_000);

        Files.delete(app.statsDir().resolve("stall-" + pid));
        awaitValue("stalled gauge after recovery", () -> MetricQuery.sum(receiver, "wmscope.worker.stalled", worker), 0);
        agent.awaitStderr(l -> l.contains("worker " + pid + " (Slow) recovered"), 5_000);
      }
    }
  }

  @Test
  void aLongLivedConnectionIsCountedWhileOpenAndExactlyOnce() throws Exception {
    try (var receiver = new OtlpHttpReceiver(); ServerSocket server = new ServerSocket(0, 50, V4);
        AgentProcess agent = agent(receiver, "--port", String.valueOf(server.getLocalPort()))) {
      Map<String, String> rx = Map.of("server.port", String.valueOf(server.getLocalPort()), "network.io.direction", "receive");
      List<Long> seen = new ArrayList<>();
      try (Socket client = new Socket(V4, server.getLocalPort()); Socket accepted = server.accept()) {
        client.getOutputStream().write(new byte[1]);
        accepted.getInputStream().readNBytes(1);
        for (int i = 0; i < 15; i++) {
          client.getOutputStream().write(new byte[1000]);
          accepted.getInputStream().readNBytes(1000);
          Thread.sleep(100);
          seen.add(MetricQuery.sum(receiver, "wmscope.network.io", rx));
        }
        assertThat(seen.stream().distinct().count()).as("distinct values across exports while open").isGreaterThan(3);
        assertThat(seen).isSorted();
        accepted.getOutputStream().write(new byte[4321]);
        client.getInputStream().readNBytes(4321);
      }
      awaitValue("bytes received after close", () -> MetricQuery.sum(receiver, "wmscope.network.io", rx), 15_001);
      awaitValue("bytes sent after close", () -> MetricQuery.sum(receiver, "wmscope.network.io",
          Map.of("server.port", String.valueOf(server.getLocalPort()), "network.io.direction", "transmit")), 4321);
      JsonObject line = await("close line", () -> agent.stdout().stream().map(JsonObject::new).findFirst().orElse(null));
      assertThat(line.getLong("wmscope.tcp.bytes_received")).isEqualTo(15_001);
      assertThat(line.getLong("wmscope.tcp.bytes_sent")).isEqualTo(4321);
      // try-with-resources closes the accepted socket (declared last) first: the server side closed first
      assertThat(line.getString("wmscope.close.cause")).isEqualTo("fin_local");
      Thread.sleep(600);
      assertThat(MetricQuery.sum(receiver, "wmscope.network.io", rx)).as("still exact a few exports later").isEqualTo(15_001);
    }
  }

  @Test
  void resetsAndRefusedConnectsAreTheirOwnCloseCauses(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, V4)) {
      closedPort = s.getLocalPort();
    }
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Api", "text://127.0.0.1:" + port, 1, false)));
        var receiver = new OtlpHttpReceiver()) {
      app.start(false);
      int pid = app.awaitWorkers(1, Set.of(), WAIT).getFirst();
      try (AgentProcess agent = agent(receiver)) {
        agent.awaitStderr(l -> l.contains("watched pids now") && l.contains(String.valueOf(pid)), 10_000);
        try (Socket client = new Socket(V4, port)) {
          client.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
          client.getInputStream().readNBytes(6);
          client.setSoLinger(true, 0);
        }
        try (Socket client = new Socket(V4, port)) {
          client.setSoTimeout(5000);
          client.getOutputStream().write(("connect 127.0.0.1:" + closedPort + "\n").getBytes(StandardCharsets.UTF_8));
          assertThat(new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)).readLine())
              .startsWith("error");
        }
        JsonObject reset = await("reset line", () -> agent.stdout().stream().map(JsonObject::new)
            .filter(j -> j.getLong("server.port") == port && "rst_received".equals(j.getString("wmscope.close.cause")))
            .findFirst().orElse(null));
        assertThat(reset.getString("error.type")).isEqualTo("rst_received");
        JsonObject refused = await("refused line", () -> agent.stdout().stream().map(JsonObject::new)
            .filter(j -> j.getLong("server.port") == closedPort).findFirst().orElse(null));
        assertThat(refused.getString("wmscope.close.cause")).isEqualTo("refused");
        assertThat(refused.getString("wmscope.connection.side")).isEqualTo("client");
        assertThat(refused.getInteger("process.pid")).isEqualTo(pid);
        awaitValue("refused in the closed counter", () -> MetricQuery.sum(receiver, "wmscope.connection.closed",
            Map.of("wmscope.close.cause", "refused", "process.pid", String.valueOf(pid))), 1);
        awaitValue("received resets in the closed counter", () -> MetricQuery.sum(receiver, "wmscope.connection.closed",
            Map.of("wmscope.close.cause", "rst_received", "server.port", String.valueOf(port))), 1);
      }
    }
  }

  @Test
  void aListenerThatStopsAcceptingShowsItsQueueAndOverflows() throws Exception {
    List<SocketChannel> clients = new ArrayList<>();
    try (var receiver = new OtlpHttpReceiver(); ServerSocket server = new ServerSocket(0, 8, V4);
        AgentProcess agent = agent(receiver, "--port", String.valueOf(server.getLocalPort()))) {
      Map<String, String> port = Map.of("server.port", String.valueOf(server.getLocalPort()));
      awaitValue("queue limit", () -> MetricQuery.sum(receiver, "wmscope.listen.queue.limit", port), 8);
      awaitValue("empty queue", () -> MetricQuery.sum(receiver, "wmscope.listen.queue.length", port), 0);
      for (int i = 0; i < 5; i++) {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress(V4, server.getLocalPort()));
        clients.add(ch);
      }
      awaitValue("queue of 5", () -> MetricQuery.sum(receiver, "wmscope.listen.queue.length", port), 5);
      for (int i = 0; i < 20; i++) {
        SocketChannel ch = SocketChannel.open();
        clients.add(ch);
        ch.configureBlocking(false);
        ch.connect(new InetSocketAddress(V4, server.getLocalPort()));
      }
      awaitValue("full queue", () -> MetricQuery.sum(receiver, "wmscope.listen.queue.length", port), 9);
      await("overflows counted", () -> MetricQuery.sum(receiver, "wmscope.listen.overflows", port) > 0 ? true : null);
    } finally {
      for (SocketChannel ch : clients) {
        ch.close();
      }
    }
  }

  @Test
  void aTinyRingBufferReportsItsDrops() throws Exception {
    try (var receiver = new OtlpHttpReceiver();
        var server = new dev.wmscope.loader.testing.LoopbackTraffic.Server(V4);
        AgentProcess agent = agent(receiver, "--port", String.valueOf(server.port()), "--ring-buffer-bytes", "4096")) {
      // fast churn from several threads outruns a 4 KiB buffer between 100 ms polls
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        threads.add(Thread.ofPlatform().start(() -> {
          try {
            dev.wmscope.loader.testing.LoopbackTraffic.exchanges(V4, server.port(), 500, 10, 0);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
      await("drops reported", () -> MetricQuery.sum(receiver, "wmscope.events.dropped",
          Map.of("wmscope.drop.reason", "ringbuf_full")) > 0 ? true : null);
      long lines = await("lines settle", () -> {
        long n = agent.stdout().size();
        return n > 0 ? n : null;
      });
      assertThat(lines).isLessThan(2000);
    }
  }
}
