package dev.wmscope.agent.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.WorkerIdentity;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputWritersTest {
  private static final long START = 1_764_025_200_123_456_789L; // 2025-11-24T23:00:00.123456789Z
  private final ConnectionEvent server = new ConnectionEvent(ConnectionEvent.Side.SERVER, false, "127.0.0.1", 8080,
      "127.0.0.2", 50000, START, START + 2_500_000, 100, 200, 2, 3, 45, 1, 4242, "php", null, false);
  private final ConnectionEvent gateway = new ConnectionEvent(ConnectionEvent.Side.SERVER, false, "127.0.0.1", 8080,
      "127.0.0.3", 50001, START, START + 2_500_000, 100, 200, 2, 3, 45, 1, 4242, "php",
      new WorkerIdentity("ChatGateway", "websocket://0.0.0.0:8080", 4000, "/srv/chat/start.php", "gateway"),
      true);

  @Test
  void jsonLineHasSpanKeysAndRfc3339Times() {
    var json = JsonLinesWriter.toJson(server);
    assertThat(json.getString("network.peer.address")).isEqualTo("127.0.0.2");
    assertThat(json.getLong("network.peer.port")).isEqualTo(50000);
    assertThat(json.getString("server.address")).isEqualTo("127.0.0.1");
    assertThat(json.getLong("server.port")).isEqualTo(8080);
    assertThat(json.getString("network.type")).isEqualTo("ipv4");
    assertThat(json.getString("wmscope.connection.side")).isEqualTo("server");
    assertThat(json.getLong("wmscope.tcp.bytes_received")).isEqualTo(100);
    assertThat(json.getLong("wmscope.tcp.bytes_sent")).isEqualTo(200);
    assertThat(json.getLong("wmscope.tcp.rtt_us")).isEqualTo(45);
    assertThat(json.getLong("wmscope.tcp.retransmits")).isEqualTo(1);
    assertThat(json.getDouble("wmscope.connection.duration_ms")).isEqualTo(2.5);
    assertThat(json.getLong("process.pid")).isEqualTo(4242);
    assertThat(json.getString("start_time")).isEqualTo("2025-11-24T23:00:00.123456789Z");
    assertThat(json.getString("end_time")).isEqualTo("2025-11-24T23:00:00.125956789Z");
    assertThat(json.getBoolean("wmscope.connection.internal")).isFalse();
    // No worker known: the workerman.* keys are left out, not empty.
    assertThat(json.fieldNames()).noneMatch(k -> k.startsWith("workerman."));
  }

  @Test
  void jsonLineOfAWorkerConnectionCarriesItsIdentityAndInternalFlag() {
    var bytes = new ByteArrayOutputStream();
    var writer = new JsonLinesWriter(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    writer.closed(gateway);
    writer.endOfBatch();

    // Parse the line as written, so the types survive encoding: numbers, booleans, strings.
    var json = new JsonObject(bytes.toString(StandardCharsets.UTF_8).strip());
    assertThat(json.getValue("workerman.worker.name")).isEqualTo("ChatGateway");
    assertThat(json.getValue("workerman.worker.listen")).isEqualTo("websocket://0.0.0.0:8080");
    assertThat(json.getLong("workerman.master.pid")).isEqualTo(4000L);
    assertThat(json.getValue("workerman.start_file")).isEqualTo("/srv/chat/start.php");
    assertThat(json.getValue("workerman.role")).isEqualTo("gateway");
    assertThat(json.getValue("wmscope.connection.internal")).isEqualTo(Boolean.TRUE);
    assertThat(json.fieldNames())
        .filteredOn(k -> k.startsWith("workerman."))
        .containsExactlyInAnyOrder(
            "workerman.worker.name",
            "workerman.worker.listen",
            "workerman.master.pid",
            "workerman.start_file",
            "workerman.role");
  }

  @Test
  void oneLinePerClosedConnectionOnly() {
    var bytes = new ByteArrayOutputStream();
    var writer = new JsonLinesWriter(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    writer.opened(server);
    writer.closed(server);
    writer.endOfBatch();
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines()).hasSize(1);
  }

  @Test
  void consoleLineIsReadable() {
    assertThat(ConsoleWriter.format(server))
        .contains("server 127.0.0.1:8080 <- 127.0.0.2:50000")
        .contains("pid=4242/php rx=100B tx=200B rtt=45us retrans=1 dur=2.500ms");
  }
}
