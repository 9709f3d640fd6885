package dev.wmscope.agent.cli;

import dev.wmscope.agent.ExitCodes;
import dev.wmscope.loader.BpfException;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code wmscope status}: a per-worker table like {@code php start.php status}, from the kernel.
 * Reads a running agent's API, or samples the kernel itself for {@code --sample} when no agent
 * answers. {@code --live} refreshes until Ctrl-C (or {@code --count} refreshes).
 */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Show each Workerman worker's connections, traffic, RTT, retransmits, resets and accept queue.",
        "Reads the agent at --http-address (or the one holding --lock-file); with no agent running,"
            + " samples the kernel for --sample (needs root, like `wmscope run`)."})
public final class StatusCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin ConfigOption configOption;

  @CommandLine.Mixin LogOptions logOptions;

  @CommandLine.Mixin AgentAddressOptions agent;

  @Option(names = "--sample", paramLabel = "DURATION",
      description = "Without a running agent: how long to sample the kernel (default: 2s).")
  String sample = "2s";

  @Option(names = "--live", description = "Refresh every --interval until Ctrl-C.")
  boolean live;

  @Option(names = "--interval", paramLabel = "DURATION", description = "Refresh interval of --live (default: 1s).")
  String interval = "1s";

  @Option(names = "--count", paramLabel = "N", description = "With --live: stop after N refreshes (default: until Ctrl-C).")
  int count;

  @Option(names = "--topology", description = "Show the GatewayWorker topology instead: per app its Register, Gateways"
      + " (clients, inner ports) and BusinessWorkers, every internal link with RTT and backlog, and missing links.")
  boolean topology;

  @Option(names = "--json", description = "Print the /api/status JSON document instead of the table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    logOptions.apply(Level.WARNING);
    Duration sampleFor = duration("--sample", sample, Duration.ofMillis(500), Duration.ofMinutes(10));
    Duration every = duration("--interval", interval, Duration.ofMillis(200), Duration.ofHours(1));
    if (count < 0) {
      throw Sources.bad(spec, "--count", Integer.toString(count), "must be 0 (no limit) or more");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    CountDownLatch stop = new CountDownLatch(1);
    if (live) {
      Signal.handle(new Signal("INT"), s -> stop.countDown());
      Signal.handle(new Signal("TERM"), s -> stop.countDown());
    }
    StatusTarget target;
    try {
      target = agent.open(spec, Duration.ofMillis(500), note -> {
        err.println("wmscope: " + note + " for " + Durations.text(sampleFor) + " (start `wmscope run` to keep history)");
        err.flush();
      });
    } catch (BpfException e) {
      return noData(err, e);
    }
    try (target) {
      if (target.embedded() && stop.await(sampleFor.toMillis(), TimeUnit.MILLISECONDS)) {
        return ExitCodes.OK;
      }
      boolean clear = live && System.console() != null && System.console().isTerminal();
      for (int n = 1; ; n++) {
        JsonObject status = topology ? target.topology() : target.status();
        if (clear) {
          out.print("\033[H\033[2J");
        }
        if (json) {
          out.println(status.encode());
        } else {
          out.print(topology ? StatusText.topology(status, target.description())
              : StatusText.render(status, target.description(), Instant.now()));
          if (live) {
            out.println(count > 0 ? "refresh " + n + " of " + count + " every " + Durations.text(every)
                : "refreshing every " + Durations.text(every) + "; Ctrl-C to quit");
          }
        }
        out.flush();
        if (!live || (count > 0 && n >= count) || stop.await(every.toMillis(), TimeUnit.MILLISECONDS)) {
          return ExitCodes.OK;
        }
      }
    }
  }

  private Duration duration(String flag, String text, Duration min, Duration max) {
    try {
      return Durations.parse(text, min, max);
    } catch (IllegalArgumentException e) {
      throw Sources.bad(spec, flag, text, e.getMessage());
    }
  }

  /** The agent address to try first, or empty for none. */
  /** No agent and no privileges to sample: say both, exit 5. */
  static int noData(PrintWriter err, BpfException e) {
    err.println("wmscope: no agent answered and sampling the kernel failed: " + e.getMessage());
    err.println("hint: start the agent (`wmscope run`, as root or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN) and"
        + " ask it, or run this command as root" + (e.hint().isEmpty() ? "" : "; " + e.hint()));
    err.flush();
    return ExitCodes.NO_DATA;
  }
}
