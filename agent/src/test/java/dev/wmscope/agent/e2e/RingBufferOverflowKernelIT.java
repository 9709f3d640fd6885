package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.LoopbackTraffic;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The kernel's ring buffer overflows (a 4 KiB one under a burst of connections): the loss is
 * counted and exported, never silent, every record that arrived is reported, and once the burst
 * is over the agent reports every later connection again, exactly.
 */
@KernelTest
class RingBufferOverflowKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final String CLOSED = "wmscope_connection_closed_total{";
  private static final String DROPPED = "wmscope_events_dropped_total{";

  @Test
  void aBurstBeyondTheRingBufferIsCountedAndTheAgentCatchesUp() throws Exception {
    try (var server = new LoopbackTraffic.Server(V4);
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.port()),
            "--ring-buffer-bytes", "4096"), Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      int http = agent.httpPort(5_000);
      String port = "server_port=\"" + server.port() + "\"";
      int burst = 600;
      for (int round = 0; round < 5 && AgentExportOutageKernelIT.scrape(http, DROPPED, "ringbuf_full") == 0; round++) {
        LoopbackTraffic.exchanges(V4, server.port(), burst, 10, 1); // as fast as loopback goes
        Thread.sleep(1_500); // a live read exports the kernel's drop counter
      }
      long dropped = AgentExportOutageKernelIT.scrape(http, DROPPED, "ringbuf_full");
      assertThat(dropped).as("records lost to the full ring buffer, counted and exported").isPositive();
      long closedAfterBurst = AgentExportOutageKernelIT.scrape(http, CLOSED, port);
      assertThat(closedAfterBurst).as("what arrived is reported").isPositive();

      // the burst is over: the next connections are all reported, exactly, and nothing more is lost
      LoopbackTraffic.exchanges(V4, server.port(), 10, 100, 7);
      long want = closedAfterBurst + 10;
      Await.until(Duration.ofSeconds(20), "10 more closed connections",
          () -> AgentExportOutageKernelIT.scrape(http, CLOSED, port), want);
      Thread.sleep(1_500);
      assertThat(AgentExportOutageKernelIT.scrape(http, CLOSED, port)).isEqualTo(want);
      assertThat(AgentExportOutageKernelIT.scrape(http, DROPPED, "ringbuf_full")).as("no loss after the burst")
          .isEqualTo(dropped);
      assertThat(agent.stderrBeyondKernelFeatures()).noneMatch(l -> l.contains("ERROR"));
    }
  }
}
