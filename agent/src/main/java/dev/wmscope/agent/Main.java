package dev.wmscope.agent;

import dev.wmscope.agent.cli.DemoCommand;
import dev.wmscope.agent.cli.RunCommand;
import dev.wmscope.agent.cli.VersionProvider;
import dev.wmscope.loader.BpfException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code wmscope <command>}. */
@Command(
    name = "wmscope",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "eBPF network observability for Workerman, exported through OpenTelemetry.",
    subcommands = {RunCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success (also a clean stop on SIGTERM/SIGINT)",
      "1:unexpected failure",
      "2:bad command line or configuration",
      "3:this host cannot run wmscope (privileges, BTF, cgroup v2, libbpf)"
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try `wmscope run --port 8080` or `wmscope --help`");
  }

  public static void main(String[] args) {
    Logging.configure(System.getenv("WMSCOPE_DEBUG") != null);
    int code = ExitCodes.FAILURE;
    try {
      code = commandLine().execute(args);
    } catch (Throwable t) {
      System.err.println("wmscope: " + t);
    } finally {
      // always exit: a thread left running must never keep a stopped agent alive
      System.exit(code);
    }
  }

  /** The configured command line, also used by tests. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExitCodeExceptionMapper(t -> switch (t) {
      case CommandLine.ParameterException p -> ExitCodes.USAGE;
      case BpfException b -> ExitCodes.HOST_UNSUPPORTED;
      default -> ExitCodes.FAILURE;
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      var err = commandLine.getErr();
      if (ex instanceof CommandLine.ParameterException p) {
        err.println("wmscope: " + p.getMessage());
        err.println("try: wmscope " + p.getCommandLine().getCommandName() + " --help");
        return ExitCodes.USAGE;
      }
      if (ex instanceof BpfException b) {
        err.println("wmscope: " + b.getMessage());
        if (!b.hint().isEmpty()) {
          err.println("hint: " + b.hint());
        }
        if (!b.log().isEmpty() && System.getenv("WMSCOPE_DEBUG") != null) {
          b.log().forEach(line -> err.println("  " + line));
        }
        return ExitCodes.HOST_UNSUPPORTED;
      }
      err.println("wmscope: " + ex.getMessage());
      if (System.getenv("WMSCOPE_DEBUG") != null) {
        ex.printStackTrace(err);
      }
      return ExitCodes.FAILURE;
    });
    return cli;
  }
}
