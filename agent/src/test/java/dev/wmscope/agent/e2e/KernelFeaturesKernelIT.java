package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.KernelFeature;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The agent run with optional kernel features switched off as if the kernel had refused them:
 * it runs, says so once per feature in its log, lists them in /readyz, /api/agent and the
 * kernel_feature gauge, and the fallback still reports a long-lived connection's bytes while
 * it is open.
 */
@KernelTest
class KernelFeaturesKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  @Test
  void degradedFeaturesAreLoggedOnceListedEverywhereAndLiveBytesStillAdvance() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, V4);
        AgentProcess agent = new AgentProcess(List.of("run", "--port", String.valueOf(server.getLocalPort()),
            "--poll-interval", "200ms"), Map.of(KernelFeature.DISABLE_ENV, "tracked_iter,reset_marks"))) {
      int http = agent.httpPort(30_000);
      Await.until(WAIT, "ready", () -> CliRun.json(http, "/readyz").getString("status"), "ready");

      for (String f : List.of("tracked_iter", "reset_marks")) {
        assertThat(agent.stderr().stream().filter(l -> l.contains("kernel feature " + f + " degraded"))).as(f)
            .singleElement().satisfies(l -> assertThat(l).contains("WARN")
                .contains("(turned off by WMSCOPE_DISABLE_FEATURES): "));
      }
      assertThat(agent.stderr()).anyMatch(l -> l.contains("kernel feature tracked_iter degraded")
          && l.endsWith(KernelFeature.TRACKED_ITER.consequence()));
      JsonArray degraded = CliRun.json(http, "/readyz").getJsonArray("degraded_features");
      assertThat(degraded.getList()).contains("tracked_iter", "reset_marks");
      JsonObject features = CliRun.json(http, "/api/agent").getJsonObject("kernel_features");
      assertThat(features.getJsonObject("tracked_iter").getString("state")).isEqualTo("degraded");
      assertThat(features.getJsonObject("tracked_iter").getString("cause")).isEqualTo("turned off by WMSCOPE_DISABLE_FEATURES");
      assertThat(features.getJsonObject("adoption").getString("state")).isEqualTo("ok");
      String metrics = CliRun.get(http, "/metrics").body();
      assertThat(metrics).containsPattern("wmscope_agent_kernel_feature\\{[^}]*wmscope_kernel_feature=\"tracked_iter\""
          + ",wmscope_kernel_feature_state=\"degraded\"[^}]*} 1(\\.0)?\\n");
      assertThat(metrics).containsPattern("wmscope_agent_kernel_feature\\{[^}]*wmscope_kernel_feature=\"tracked_iter\""
          + ",wmscope_kernel_feature_state=\"ok\"[^}]*} 0(\\.0)?\\n");

      // the fallback's ground truth: every live read is the full walk, bytes advance while open
      try (Socket client = new Socket(V4, server.getLocalPort()); Socket accepted = server.accept()) {
        OutputStream out = client.getOutputStream();
        InputStream in = accepted.getInputStream();
        int peer = client.getLocalPort();
        long total = 0;
        for (int step = 1; step <= 3; step++) {
          out.write(new byte[1000 * step]);
          total += in.readNBytes(1000 * step).length;
          long want = total;
          Await.until(WAIT, "bytes_in " + want + " of the open connection", () -> bytesIn(http, peer), want);
        }
      }
    }
  }

  private static long bytesIn(int http, int peerPort) {
    JsonArray conns = CliRun.json(http, "/api/connections").getJsonArray("connections");
    for (int i = 0; i < conns.size(); i++) {
      JsonObject c = conns.getJsonObject(i);
      if (c.getLong("peer_port") == peerPort) {
        return c.getLong("bytes_in");
      }
    }
    return -1;
  }
}
