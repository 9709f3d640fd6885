package dev.wmscope.agent.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wmscope requests}: the most recent slow or failed HTTP requests of Workerman's HTTP and
 * WebSocket workers (5xx, no response, a response cut by the close, or at least 1 s), from a
 * running agent or a short kernel sample.
 */
@Command(name = "requests", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"List recent slow (>= 1 s) or failed (5xx, no or cut response) HTTP requests, newest first.",
        "Reads the agent at --http-address; with no agent running, samples the kernel for --sample."})
public final class RequestsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin ConfigOption configOption;

  @CommandLine.Mixin LogOptions logOptions;

  @CommandLine.Mixin AgentAddressOptions agent;

  @Option(names = "--limit", paramLabel = "N", description = "At most N requests (default: ${DEFAULT-VALUE}).")
  int limit = 50;

  @Option(names = "--sample", paramLabel = "DURATION",
      description = "Without a running agent: how long to sample the kernel (default: 5s).")
  String sample = "5s";

  @Option(names = "--json", description = "Print the /api/requests JSON document instead of the table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    logOptions.apply(Level.WARNING);
    if (limit < 1 || limit > 1000) {
      throw Sources.bad(spec, "--limit", String.valueOf(limit), "must be 1 to 1000");
    }
    Duration sampleFor;
    try {
      sampleFor = Durations.parse(sample, Duration.ofMillis(500), Duration.ofMinutes(10));
    } catch (IllegalArgumentException e) {
      throw Sources.bad(spec, "--sample", sample, e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    return agent.withTarget(spec, sampleFor, target -> {
      JsonObject doc = target.requests(limit);
      out.print(json ? doc.encode() + "\n" : render(doc));
      out.flush();
    });
  }

  static String render(JsonObject doc) {
    JsonArray rows = doc.getJsonArray("requests");
    Table t = new Table("start", "pid", "worker", "method", "path", ">status", ">duration", "error", "client");
    for (int i = 0; i < rows.size(); i++) {
      JsonObject r = rows.getJsonObject(i);
      String start = r.getString("start");
      t.row(start.length() >= 23 ? start.substring(11, 23) : start, Long.toString(r.getLong("pid")),
          Table.clip(r.getString("name") == null ? "-" : r.getString("name"), Table.WORKER_NAME), r.getString("method"),
          Table.clip(r.getString("path") == null ? "-" : r.getString("path"), 48),
          r.getInteger("status") == 0 ? "-" : Integer.toString(r.getInteger("status")),
          Human.number(r.getDouble("duration_ms")) + " ms", r.getString("error_type") == null ? "-" : r.getString("error_type"),
          r.getString("client"));
    }
    StringBuilder out = new StringBuilder();
    if (!t.isEmpty()) {
      out.append(t.render());
    }
    if (!doc.getBoolean("capturing", true)) {
      out.append("request capture is off (--request-capture-bytes 0, or the kernel refused it: wmscope check)\n");
    } else {
      out.append(rows.isEmpty() ? "no slow or failed requests" : rows.size() + (rows.size() == 1 ? " request" : " requests"))
          .append(" (slow: at least ").append(doc.getLong("slow_ms")).append(" ms; failed: 5xx, no response, or a")
          .append(" response cut by the close)\n");
    }
    return out.toString();
  }
}
