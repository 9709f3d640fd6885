package dev.wmscope.agent.cli;

import dev.wmscope.agent.api.ApiJson;
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
 * {@code wmscope connections}: the open connections (peer, age, bytes, RTT) of Workerman workers,
 * from a running agent or a short kernel sample, filtered by worker, port or peer.
 */
@Command(name = "connections", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"List open connections with their worker, peer, age, bytes and RTT (largest first).",
        "Reads the agent at --http-address; with no agent running, samples the kernel for --sample"
            + " (connections opened before it are adopted; bytes count from then)."})
public final class ConnectionsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin ConfigOption configOption;

  @CommandLine.Mixin LogOptions logOptions;

  @CommandLine.Mixin AgentAddressOptions agent;

  @Option(names = "--worker", paramLabel = "NAME|PID", description = "Only this worker (its name, or a pid).")
  String worker;

  @Option(names = "--port", paramLabel = "PORT", description = "Only connections on this local or server port.")
  Integer port;

  @Option(names = "--peer", paramLabel = "ADDRESS[:PORT]", description = "Only connections with this peer.")
  String peer;

  @Option(names = "--sort", paramLabel = "KEY", description = "bytes (default), age or rtt.")
  String sort = "bytes";

  @Option(names = "--limit", paramLabel = "N", description = "At most N connections (default: ${DEFAULT-VALUE}).")
  int limit = 100;

  @Option(names = "--sample", paramLabel = "DURATION",
      description = "Without a running agent: how long to sample the kernel (default: 1s).")
  String sample = "1s";

  @Option(names = "--json", description = "Print the /api/connections JSON document instead of the table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    logOptions.apply(Level.WARNING);
    Duration sampleFor;
    try {
      sampleFor = Durations.parse(sample, Duration.ofMillis(500), Duration.ofMinutes(10));
    } catch (IllegalArgumentException e) {
      throw Sources.bad(spec, "--sample", sample, e.getMessage());
    }
    ApiJson.ConnectionFilter filter;
    try {
      filter = new ApiJson.ConnectionFilter(worker, port, peer, null, limit, sort);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage().replaceFirst("^(\\w+) ", "--$1 "));
    }
    PrintWriter out = spec.commandLine().getOut();
    return agent.withTarget(spec, sampleFor, target -> {
      JsonObject doc = target.connections(filter);
      if (json) {
        out.println(doc.encode());
      } else {
        out.print(render(doc));
      }
      out.flush();
    });
  }

  static String render(JsonObject doc) {
    JsonArray rows = doc.getJsonArray("connections");
    Table t = new Table("pid", "worker", "side", "local", "peer", ">age", ">in", ">out", ">rtt", ">retrans",
        ">unread");
    for (int i = 0; i < rows.size(); i++) {
      JsonObject c = rows.getJsonObject(i);
      long pid = c.getLong("pid");
      String name = c.getString("name") != null ? c.getString("name")
          : c.getString("process_name", "").isEmpty() ? "-" : "(" + c.getString("process_name") + ")";
      String age = Human.age(c.getDouble("age_s"));
      t.row(pid == 0 ? "-" : Long.toString(pid), Table.clip(name, Table.WORKER_NAME), c.getString("side"),
          Human.hostPort(c.getString("local_address"), c.getLong("local_port")),
          Human.hostPort(c.getString("peer_address"), c.getLong("peer_port")),
          c.getBoolean("preexisting", false) ? ">" + age : age,
          Human.bytes(c.getLong("bytes_in")), Human.bytes(c.getLong("bytes_out")), Human.micros(c.getLong("rtt_us")),
          Long.toString(c.getLong("retransmits")),
          c.getLong("recv_queue_bytes") == 0 ? "-" : Human.bytes(c.getLong("recv_queue_bytes")));
    }
    StringBuilder out = new StringBuilder();
    if (!t.isEmpty()) {
      out.append(t.render());
    }
    long matched = doc.getLong("matched");
    long shown = doc.getLong("count");
    out.append(matched == 0 ? "no open connections match" : matched + (matched == 1 ? " connection" : " connections")
        + (shown < matched ? " (" + shown + " shown; --limit N for more)" : ""));
    out.append(" (of ").append(doc.getLong("total")).append(" open; '>' marks connections open before")
        .append(" wmscope saw them: age and bytes count from then)\n");
    return out.toString();
  }
}
