package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The text of `wmscope status` and `wmscope connections` from API documents. */
class StatusTextTest {
  static JsonObject worker(long pid, String name, long active, double inRate, long rtt50, long rtt99, boolean stalled) {
    return new JsonObject().put("pid", pid).put("name", name).put("listen", name == null ? null : "text://0.0.0.0:2347")
        .put("role", "worker").put("master_pid", 1).put("start_file", "/srv/chat/start.php").put("process_name", "php")
        .put("active", active).put("opened", 10).put("closed", 10 - active).put("opened_per_s", 1.5)
        .put("closed_per_s", 1.0).put("bytes_in", 1000).put("bytes_out", 2000).put("bytes_in_per_s", inRate)
        .put("bytes_out_per_s", 2048.0).put("rtt_p50_us", rtt50).put("rtt_p99_us", rtt99).put("retransmits", 2)
        .put("resets", 1).put("stalled", stalled).put("queued_bytes", stalled ? 4096 : 0).put("accept_queue", 3)
        .put("accept_queue_limit", 511).put("listen_drops", 0).put("shares", new JsonArray());
  }

  static JsonObject status() {
    JsonObject totals = new JsonObject().put("active", 7).put("opened", 20).put("closed", 13).put("opened_per_s", 3.0)
        .put("closed_per_s", 2.0).put("bytes_in", 2000).put("bytes_out", 4000).put("bytes_in_per_s", 1536.0)
        .put("bytes_out_per_s", 4096.0).put("rtt_p50_us", 42).put("rtt_p99_us", 1500).put("retransmits", 4)
        .put("resets", 2).put("workers", 2).put("stalled_workers", 1).put("listeners", 1).put("accept_queue", 3)
        .put("accept_queue_limit", 511).put("listen_drops", 5).put("events_dropped", 0);
    JsonObject agent = new JsonObject().put("version", "0.1.0").put("ready", true).put("not_ready", new JsonArray());
    JsonObject listener = new JsonObject().put("address", "0.0.0.0").put("port", 2347).put("accept_queue", 3)
        .put("accept_queue_limit", 511).put("drops", 5).put("pid", 1).put("holders", new JsonArray(List.of(1, 100, 101)))
        .put("shared", true).put("name", "").put("role", "master");
    return new JsonObject().put("agent", agent).put("window_s", 10.0).put("totals", totals)
        .put("workers", new JsonArray(List.of(worker(100, "Chat Worker", 4, 1024.0, 42, 120, false),
            worker(101, "Chat Worker", 3, 512.0, 50, 1500, true), worker(0, null, 0, 0.0, 0, 0, false))))
        .put("listeners", new JsonArray(List.of(listener)));
  }

  @Test
  void statusLooksLikeWorkermansWithKernelColumns() {
    String text = StatusText.render(status(), "agent at 127.0.0.1:9464", Instant.EPOCH);
    List<String> lines = text.lines().toList();
    assertThat(text).contains("WMSCOPE STATUS", "PROCESS STATUS", "LISTENERS", "source: agent at 127.0.0.1:9464",
        "connections: 7 active, 3 opened/s", "traffic: in 1.5 KiB/s, out 4.0 KiB/s", "rtt p50/p99: 42us / 1.50ms",
        "retransmits: 4", "resets: 2", "5 dropped", "(1 stalled)");
    String header = lines.stream().filter(l -> l.startsWith("pid")).findFirst().orElseThrow();
    assertThat(header).containsSubsequence("pid", "worker", "listen", "active", "opened/s", "in/s", "out/s", "rtt p50",
        "rtt p99", "retrans", "resets", "accept queue", "state");
    String w100 = lines.stream().filter(l -> l.startsWith("100 ")).findFirst().orElseThrow();
    assertThat(w100.split("\\s{2,}")).containsExactly("100", "Chat Worker", "text://0.0.0.0:2347", "4", "1.5",
        "1.0 KiB/s", "2.0 KiB/s", "42us", "120us", "2", "1", "3/511", "ok");
    assertThat(lines.stream().filter(l -> l.startsWith("101 ")).findFirst().orElseThrow())
        .contains("1.50ms").endsWith("stalled (4.0 KiB unread)");
    assertThat(lines).anyMatch(l -> l.startsWith("-   ") && l.contains("(no process)"));
    assertThat(lines).anyMatch(l -> l.startsWith("0.0.0.0:2347") && l.endsWith("master (pid 1), shared by 3 processes"));
  }

  @Test
  void noWorkersSaysWhatToDo() {
    JsonObject s = status().put("workers", new JsonArray()).put("listeners", new JsonArray());
    assertThat(StatusText.render(s, "x", Instant.EPOCH)).contains("no Workerman workers found").doesNotContain("LISTENERS");
  }

  @Test
  void connectionsTable() {
    JsonObject c = new JsonObject().put("pid", 100).put("name", "Chat Worker").put("process_name", "php")
        .put("side", "server").put("local_address", "::1").put("local_port", 8282).put("peer_address", "::1")
        .put("peer_port", 50000).put("age_s", 75.0).put("preexisting", true).put("bytes_in", 2048).put("bytes_out", 10)
        .put("rtt_us", 33).put("retransmits", 0).put("recv_queue_bytes", 0);
    JsonObject doc = new JsonObject().put("total", 5).put("matched", 3).put("count", 1).put("truncated", true)
        .put("connections", new JsonArray(List.of(c)));
    String text = ConnectionsCommand.render(doc);
    assertThat(text.lines().toList().get(1).split("\\s{2,}")).containsExactly("100", "Chat Worker", "server",
        "[::1]:8282", "[::1]:50000", ">1m15s", "2.0 KiB", "10 B", "33us", "0", "-");
    assertThat(text).contains("3 connections (1 shown; --limit N for more) (of 5 open");
    assertThat(ConnectionsCommand.render(new JsonObject().put("total", 0).put("matched", 0).put("count", 0)
        .put("connections", new JsonArray()))).startsWith("no open connections match");
  }

  @Test
  void topologyShowsEachGatewaysClientsAndClientsOpenedPerSecondAndMissingLinks() {
    JsonObject register = new JsonObject().put("pid", 10).put("name", "ChatRegister").put("role", "register")
        .put("listen", "text://127.0.0.1:1236");
    JsonObject gateway = new JsonObject().put("pid", 20).put("name", "ChatGateway").put("role", "gateway")
        .put("listen", "websocket://0.0.0.0:7272").put("inner_ports", new JsonArray().add(2900)).put("clients", 4200)
        .put("clients_opened", 9000).put("clients_opened_per_s", 12.5);
    JsonObject business = new JsonObject().put("pid", 30).put("name", "ChatBusinessWorker").put("role", "business_worker")
        .put("listen", "none");
    JsonObject link = new JsonObject().put("client_pid", 30).put("client_role", "business_worker").put("server_pid", 20)
        .put("server_role", "gateway").put("server_port", 2900).put("rtt_us", 42).put("unacked_bytes", 0)
        .put("unread_bytes", 2048).put("age_s", 75.0).put("reconnects", 1);
    JsonObject missing = new JsonObject().put("client_pid", 30).put("client_role", "business_worker").put("server_pid", 10)
        .put("server_role", "register");
    JsonObject doc = new JsonObject().put("window_s", 10.0).put("apps", new JsonArray().add(new JsonObject()
        .put("master_pid", 1).put("start_file", "/srv/chat/start.php")
        .put("processes", new JsonArray(List.of(register, gateway, business)))
        .put("links", new JsonArray().add(link)).put("missing_links", new JsonArray().add(missing))));
    List<String> lines = StatusText.topology(doc, "agent at 127.0.0.1:9464").lines().toList();
    assertThat(lines.getFirst()).contains("GATEWAYWORKER /srv/chat/start.php (master 1)");
    assertThat(lines.get(1).split("\\s{2,}")).containsExactly("pid", "role", "worker", "listen", "inner", "clients",
        "opened/s");
    assertThat(row(lines, "10 ")).containsExactly("10", "register", "ChatRegister", "text://127.0.0.1:1236", "-", "-",
        "-");
    assertThat(row(lines, "20 ")).containsExactly("20", "gateway", "ChatGateway", "websocket://0.0.0.0:7272", "[2900]",
        "4200", "12.5");
    assertThat(row(lines, "business_worker 30")).containsExactly("business_worker 30", "gateway 20", "2900", "42us",
        "0 B", "2.0 KiB", "75 s", "1");
    assertThat(lines).contains("MISSING: business_worker 30 has no link to register 10");
  }

  private static String[] row(List<String> lines, String start) {
    return lines.stream().filter(l -> l.startsWith(start)).findFirst().orElseThrow().split("\\s{2,}");
  }

  @Test
  void humanNumbers() {
    assertThat(Human.bytes(0)).isEqualTo("0 B");
    assertThat(Human.bytes(1536)).isEqualTo("1.5 KiB");
    assertThat(Human.bytes(300L << 20)).isEqualTo("300 MiB");
    assertThat(Human.micros(999)).isEqualTo("999us");
    assertThat(Human.micros(12_345)).isEqualTo("12.3ms");
    assertThat(Human.micros(2_500_000)).isEqualTo("2.50s");
    assertThat(Human.age(3725)).isEqualTo("1h02m");
    assertThat(Human.hostPort("::1", 80)).isEqualTo("[::1]:80");
  }
}
