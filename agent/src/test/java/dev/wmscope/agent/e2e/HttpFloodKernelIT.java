package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Any local user can connect to the agent's HTTP port: 3,000 idle connections (no request sent)
 * and 1,000 requests without a Host header, against the agent as an operator runs it, with the
 * launcher's 96 MiB heap. The agent keeps at most its limit open, answers everyone else's
 * requests, logs no line per request, and keeps tracking connections.
 */
@KernelTest
class HttpFloodKernelIT {
  private static final InetAddress LO = InetAddress.getLoopbackAddress();

  @Test
  void idleConnectionsAndBadRequestsNeitherCrashNorFloodTheAgent() throws Exception {
    // the launcher's heap and collector (agent/src/dist/bin/wmscope)
    try (var agent = new AgentProcess(List.of("-Xmx96m", "-XX:+UseSerialGC"), List.of("run", "--port", "1"), Map.of())) {
      int http = agent.httpPort(30_000);
      List<Socket> idle = new ArrayList<>();
      int made;
      try {
        for (int i = 0; i < 3000; i++) {
          try {
            idle.add(new Socket(LO, http));
          } catch (IOException e) {
            break; // the test process's own descriptor limit: enough connections made
          }
        }
        made = idle.size();
        assertThat(made).isGreaterThan(500);
        Thread.sleep(500); // the agent closes what is beyond its limit as it arrives
      } finally {
        for (Socket s : idle) {
          s.close();
        }
      }
      Thread.sleep(500);
      for (int i = 0; i < 1000; i++) {
        try (Socket s = new Socket(LO, http)) {
          s.setSoTimeout(5_000);
          s.getOutputStream().write("GET /api/agent HTTP/1.1\r\n\r\n".getBytes());
          assertThat(new String(s.getInputStream().readAllBytes())).startsWith("HTTP/1.1 400");
        }
      }
      assertThat(agent.isAlive()).isTrue();
      JsonObject self = CliRun.json(http, "/api/agent"); // answered as soon as the flood is over
      JsonObject h = self.getJsonObject("http");
      assertThat(h.getLong("connections_refused")).as("closed at the limit").isGreaterThanOrEqualTo(made - 64L);
      assertThat(h.getLong("requests_refused")).isGreaterThanOrEqualTo(1000);
      assertThat(h.getLong("connections_open")).isLessThanOrEqualTo(64);
      assertThat(agent.stderr()).filteredOn(l -> l.contains("refused") && l.contains("HTTP request"))
          .as("at most one line a minute about refused requests").hasSizeLessThanOrEqualTo(1);
      assertThat(agent.stderr()).noneMatch(l -> l.contains("ERROR") || l.contains("OutOfMemoryError"));
      assertThat(agent.stdout()).isEmpty();
    }
  }
}
