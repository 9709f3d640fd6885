package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.Agent;
import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A collector that accepts connections and never answers (a hung proxy, a stopped process
 * whose socket stays open): the agent keeps running, and SIGTERM still ends it within its
 * documented stop budget, exit 0, programs detached, with one line saying what was not flushed.
 */
@KernelTest
class HungCollectorKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  @Test
  void stopIsBoundedWhenTheCollectorNeverAnswers() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (ServerSocket hung = new ServerSocket(0, 50, V4)) {
      Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
        while (!hung.isClosed()) {
          try {
            held.add(hung.accept()); // read nothing, answer nothing
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      String endpoint = "http://127.0.0.1:" + hung.getLocalPort();
      try (var server = new LoopbackTraffic.Server(V4);
          var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port())),
              Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, "OTEL_BSP_SCHEDULE_DELAY", "100",
                  "OTEL_METRIC_EXPORT_INTERVAL", "500"))) {
        agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
        LoopbackTraffic.exchanges(V4, server.port(), 20, 40, 2);
        long waitUntil = System.nanoTime() + 10_000_000_000L;
        while (held.isEmpty() && System.nanoTime() < waitUntil) {
          Thread.sleep(50); // the exporters have connected and now wait on the hung collector
        }
        assertThat(held).as("the exporters reached the hung collector").isNotEmpty();
        Thread.sleep(1_000);
        assertThat(agent.isAlive()).isTrue();

        long t0 = System.nanoTime();
        int code = agent.terminate(30_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(code).as("exit code after SIGTERM").isZero();
        // the budget plus the JVM's start of the stop and its exit; far below the 15 s it took
        assertThat(ms).as("ms from SIGTERM to exit").isLessThan(Agent.STOP_BUDGET_SECONDS * 1000 + 2_000);
        assertThat(agent.stderr()).anyMatch(l -> l.contains("detached BPF programs"));
      } finally {
        hung.close();
        acceptor.join(5_000);
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }
}
