package dev.wmscope.agent.cli;

import dev.wmscope.agent.Agent;
import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.selection.Selection;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.ConnectionProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** `wmscope run`: the agent, until SIGTERM or SIGINT. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Watch TCP connections and export them as OpenTelemetry spans and metrics.",
        "With no --port/--pid/--process-name/--cgroup, every Workerman app on this host is watched,"
            + " including apps started later."})
public final class RunCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(RunCommand.class.getName());

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--port", split = ",", paramLabel = "PORT",
      description = "Local port whose accepted connections are watched (repeatable, or comma-separated).")
  List<Integer> ports = List.of();

  @Option(names = "--pid", split = ",", paramLabel = "PID",
      description = "Process whose connections are watched: those it accepts on its listening ports and those it initiates (repeatable).")
  List<Integer> pids = List.of();

  @Option(names = "--process-name", paramLabel = "REGEX",
      description = "Like --pid for every process whose name or command line matches (rechecked every discovery interval).")
  Pattern processName;

  @Option(names = "--cgroup", paramLabel = "PATH",
      description = "Watch everything inside this cgroup v2 directory (e.g. a container's). Alone it selects every port and process there; with other selectors it only limits where they apply.")
  Path cgroup;

  @Option(names = "--discovery-interval", paramLabel = "DURATION",
      description = "How often /proc is rescanned for Workerman apps, reloads and listeners, e.g. 1s, 500ms (default: 1s).")
  String discoveryInterval = "1s";

  @Option(names = "--format", paramLabel = "FORMAT",
      description = "Per closed connection on stdout: none, text or json (default: none).")
  AgentConfig.Output format = AgentConfig.Output.NONE;

  @Option(names = "--console", description = "Shorthand for --format text.")
  boolean console;

  @Option(names = "--max-connections", paramLabel = "N",
      description = "Capacity of the kernel's live-connection map (default: ${DEFAULT-VALUE}).")
  int maxConnections = ConnectionProbe.Options.DEFAULT_MAX_CONNECTIONS;

  @Option(names = "--ring-buffer-bytes", paramLabel = "BYTES",
      description = "Kernel ring buffer size, a power of two >= 4096 (default: ${DEFAULT-VALUE}).")
  int ringBufferBytes = ConnectionProbe.Options.DEFAULT_RING_BUFFER_BYTES;

  @Override
  public Integer call() throws Exception {
    AgentConfig config = config();
    CountDownLatch stop = new CountDownLatch(1);
    // Handle the signals ourselves so a requested stop is an orderly one with exit code 0.
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    try (Agent agent = Agent.start(config, System.out)) {
      stop.await();
      LOG.log(System.Logger.Level.INFO, "stopping");
    }
    return ExitCodes.OK;
  }

  AgentConfig config() {
    for (int p : ports) {
      if (p < 1 || p > 65535) {
        throw usage("--port " + p + ": not a TCP port (1-65535)");
      }
    }
    for (int p : pids) {
      if (p < 1) {
        throw usage("--pid " + p + ": not a process id");
      }
    }
    Path dir = cgroup != null ? cgroup : CgroupV2.requireMount();
    if (!Files.isDirectory(dir)) {
      throw usage("--cgroup " + dir + ": no such directory");
    }
    Duration interval = Durations.parse("--discovery-interval", discoveryInterval, this::usage);
    ConnectionProbe.Options probe;
    try {
      probe = new ConnectionProbe.Options(dir, maxConnections, ringBufferBytes);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    Selection selection = new Selection(new LinkedHashSet<>(ports), new LinkedHashSet<>(pids),
        Optional.ofNullable(processName), Optional.ofNullable(cgroup));
    return new AgentConfig(probe, selection, console ? AgentConfig.Output.TEXT : format, interval);
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
}
