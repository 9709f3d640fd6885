package dev.wmscope.agent.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Renders the {@code /api/status} document as the text of {@code wmscope status}: in the shape of
 * Workerman's own {@code php start.php status} (a global section, then one line per process),
 * with what only the kernel knows.
 */
final class StatusText {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
  private static final int RULE = 100;

  private StatusText() {}

  static String render(JsonObject status, String source, Instant now) {
    JsonObject t = status.getJsonObject("totals");
    JsonObject a = status.getJsonObject("agent");
    StringBuilder out = new StringBuilder();
    out.append(rule(" WMSCOPE STATUS "));
    out.append("wmscope ").append(a.getString("version")).append("   source: ").append(source)
        .append("   ").append(TIME.format(now)).append('\n');
    out.append("rates and RTT over the last ").append(Human.number(Math.round(status.getDouble("window_s", 0.0))))
        .append(" s").append(a.getBoolean("ready", true) ? "" : "   (agent not ready: "
            + String.join(", ", a.getJsonArray("not_ready").stream().map(Object::toString).toList()) + ")")
        .append('\n');
    out.append("connections: ").append(t.getLong("active")).append(" active, ")
        .append(Human.number(t.getDouble("opened_per_s"))).append(" opened/s, ")
        .append(t.getLong("opened")).append(" opened and ").append(t.getLong("closed")).append(" closed since start\n");
    out.append("traffic: in ").append(Human.rate(t.getDouble("bytes_in_per_s"))).append(", out ")
        .append(Human.rate(t.getDouble("bytes_out_per_s"))).append("   rtt p50/p99: ")
        .append(Human.micros(t.getLong("rtt_p50_us"))).append(" / ").append(Human.micros(t.getLong("rtt_p99_us")))
        .append("   retransmits: ").append(t.getLong("retransmits")).append("   resets: ").append(t.getLong("resets"))
        .append('\n');
    out.append("accept queues: ").append(t.getLong("accept_queue")).append(" waiting, ")
        .append(t.getLong("listen_drops")).append(" dropped   workers: ").append(t.getLong("workers"))
        .append(t.getLong("stalled_workers") > 0 ? " (" + t.getLong("stalled_workers") + " stalled)" : "")
        .append("   kernel events lost: ").append(t.getLong("events_dropped")).append('\n');
    JsonObject features = a.getJsonObject("kernel_features", new JsonObject());
    List<String> lost = features.fieldNames().stream()
        .filter(f -> !"ok".equals(features.getJsonObject(f).getString("state"))).sorted()
        .map(f -> f + " " + features.getJsonObject(f).getString("state")).toList();
    if (!lost.isEmpty()) {
      out.append("kernel features not in use: ").append(String.join(", ", lost))
          .append(" (wmscope check, /api/agent say what each costs)\n");
    }

    out.append(rule(" PROCESS STATUS "));
    JsonArray workers = status.getJsonArray("workers");
    Table table = new Table("pid", "worker", "listen", ">active", ">opened/s", ">in/s", ">out/s", ">rtt p50",
        ">rtt p99", ">retrans", ">resets", ">accept queue", "state");
    for (int i = 0; i < workers.size(); i++) {
      JsonObject w = workers.getJsonObject(i);
      long pid = w.getLong("pid");
      String name = w.getString("name");
      if (name == null) {
        name = pid == 0 ? "(no process)" : "(" + w.getString("process_name", "?") + ")";
      }
      long limit = w.getLong("accept_queue_limit", 0L);
      table.row(pid == 0 ? "-" : Long.toString(pid), Table.clip(name, Table.WORKER_NAME), Table.clip(w.getString("listen", "-"), 34),
          Long.toString(w.getLong("active")), Human.number(w.getDouble("opened_per_s")),
          Human.rate(w.getDouble("bytes_in_per_s")), Human.rate(w.getDouble("bytes_out_per_s")),
          Human.micros(w.getLong("rtt_p50_us")), Human.micros(w.getLong("rtt_p99_us")),
          Long.toString(w.getLong("retransmits")), Long.toString(w.getLong("resets")),
          limit == 0 ? "-" : w.getLong("accept_queue") + "/" + limit,
          w.getBoolean("stalled", false) ? "stalled (" + Human.bytes(w.getLong("queued_bytes")) + " unread)" : "ok");
    }
    if (table.isEmpty()) {
      out.append("no Workerman workers found (is the app running? `wmscope run --port PORT` watches other servers)\n");
    } else {
      out.append(table.render());
    }

    Table requests = new Table("pid", "worker", ">requests/s", ">p50", ">p99", ">5xx/s", ">ws messages/s",
        ">requests", ">5xx");
    for (int i = 0; i < workers.size(); i++) {
      JsonObject w = workers.getJsonObject(i);
      if (w.containsKey("requests")) {
        requests.row(Long.toString(w.getLong("pid")), Table.clip(w.getString("name", "-"), Table.WORKER_NAME),
            Human.number(w.getDouble("requests_per_s")), Human.micros(Math.round(w.getDouble("request_p50_ms") * 1000)),
            Human.micros(Math.round(w.getDouble("request_p99_ms") * 1000)), Human.number(w.getDouble("errors_5xx_per_s")),
            Human.number(w.getDouble("websocket_messages_per_s")), Long.toString(w.getLong("requests")),
            Long.toString(w.getLong("errors_5xx")));
      }
    }
    if (!requests.isEmpty()) {
      out.append(rule(" REQUESTS (last minute) "));
      out.append(requests.render());
    }

    Table loops = new Table("pid", "worker", "loop", ">busy", ">descriptors", "state");
    for (int i = 0; i < workers.size(); i++) {
      JsonObject w = workers.getJsonObject(i);
      JsonObject l = w.getJsonObject("eventloop");
      if (l != null) {
        Double u = l.getDouble("utilization");
        Long fds = w.getLong("open_fds");
        Long limit = w.getLong("fd_limit");
        String state = l.getBoolean("blocked", false)
            ? "BLOCKED " + Human.number(l.getDouble("blocked_s", 0.0)) + " s: " + l.getString("doing", "")
            : l.getString("state", "unknown");
        loops.row(Long.toString(w.getLong("pid")), Table.clip(w.getString("name", "-"), Table.WORKER_NAME), l.getString("kind", "-"),
            u == null ? "-" : Math.round(u * 100) + "%",
            fds == null ? "-" : fds + (limit == null ? "" : "/" + limit), state);
      }
    }
    if (!loops.isEmpty()) {
      out.append(rule(" EVENT LOOPS (busy: share of the last poll interval not waiting for events) "));
      out.append(loops.render());
    }

    JsonArray listeners = status.getJsonArray("listeners");
    if (!listeners.isEmpty()) {
      out.append(rule(" LISTENERS "));
      Table l = new Table("listen", ">queue", ">limit", ">dropped", "held by");
      for (int i = 0; i < listeners.size(); i++) {
        JsonObject x = listeners.getJsonObject(i);
        int holders = x.getJsonArray("holders").size();
        String name = "master".equals(x.getString("role")) ? "master" : x.getString("name");
        String by = name != null && !name.isEmpty() ? name + " (pid " + x.getLong("pid") + ")"
            : x.getLong("pid") > 0 ? "pid " + x.getLong("pid") : "-";
        if (holders > 1) {
          by += ", shared by " + holders + " processes";
        }
        l.row(Human.hostPort(x.getString("address"), x.getLong("port")), Long.toString(x.getLong("accept_queue")),
            Long.toString(x.getLong("accept_queue_limit")), Long.toString(x.getLong("drops")), by);
      }
      out.append(l.render());
    }
    out.append("-".repeat(RULE)).append('\n');
    return out.toString();
  }

  private static String rule(String title) {
    int left = (RULE - title.length()) / 2;
    return "-".repeat(left) + title + "-".repeat(RULE - left - title.length()) + "\n";
  }

  /** The {@code /api/topology} document as text. */
  static String topology(JsonObject doc, String source) {
    StringBuilder out = new StringBuilder();
    JsonArray apps = doc.getJsonArray("apps");
    if (apps.isEmpty()) {
      return "no GatewayWorker app found (" + source + "): no Gateway or BusinessWorker among the watched workers\n";
    }
    for (int i = 0; i < apps.size(); i++) {
      JsonObject app = apps.getJsonObject(i);
      out.append(rule(" GATEWAYWORKER " + app.getString("start_file") + " (master " + app.getLong("master_pid") + ") "));
      Table nodes = new Table("pid", "role", "worker", "listen", "inner", ">clients", ">opened/s");
      JsonArray ps = app.getJsonArray("processes");
      for (int j = 0; j < ps.size(); j++) {
        JsonObject n = ps.getJsonObject(j);
        JsonArray inner = n.getJsonArray("inner_ports");
        nodes.row(Long.toString(n.getLong("pid")), n.getString("role"), Table.clip(n.getString("name"), Table.WORKER_NAME),
            Table.clip(n.getString("listen"), 34), inner == null || inner.isEmpty() ? "-" : inner.encode(),
            n.containsKey("clients") ? Long.toString(n.getLong("clients")) : "-",
            n.containsKey("clients_opened_per_s") ? Human.number(n.getDouble("clients_opened_per_s")) : "-");
      }
      out.append(nodes.render());
      Table links = new Table("client", "server", ">port", ">rtt", ">unacked", ">unread", ">age", ">reconnects");
      JsonArray ls = app.getJsonArray("links");
      for (int j = 0; j < ls.size(); j++) {
        JsonObject l = ls.getJsonObject(j);
        links.row(l.getString("client_role") + " " + l.getLong("client_pid"),
            l.getString("server_role") + " " + l.getLong("server_pid"), Long.toString(l.getInteger("server_port")),
            Human.micros(l.getLong("rtt_us")), Human.bytes(l.getLong("unacked_bytes")),
            Human.bytes(l.getLong("unread_bytes")), Human.number(l.getDouble("age_s")) + " s",
            Long.toString(l.getLong("reconnects")));
      }
      if (!links.isEmpty()) {
        out.append("links:\n").append(links.render());
      }
      JsonArray missing = app.getJsonArray("missing_links");
      for (int j = 0; j < missing.size(); j++) {
        JsonObject m = missing.getJsonObject(j);
        out.append("MISSING: ").append(m.getString("client_role")).append(' ').append(m.getLong("client_pid"))
            .append(" has no link to ").append(m.getString("server_role")).append(' ').append(m.getLong("server_pid"))
            .append('\n');
      }
    }
    return out.toString();
  }
}
