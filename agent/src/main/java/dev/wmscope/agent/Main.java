package dev.wmscope.agent;

import dev.wmscope.agent.cli.CheckCommand;
import dev.wmscope.agent.cli.ConnectionsCommand;
import dev.wmscope.agent.cli.DemoCommand;
import dev.wmscope.agent.cli.RequestsCommand;
import dev.wmscope.agent.cli.RunCommand;
import dev.wmscope.agent.cli.StatusCommand;
import dev.wmscope.agent.cli.VersionProvider;
import dev.wmscope.agent.config.ConfigException;
import dev.wmscope.agent.config.ConfigLayers;
import dev.wmscope.loader.BpfException;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code wmscope <command>}. */
@Command(
    name = "wmscope",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "eBPF network observability for Workerman, exported through OpenTelemetry.",
    subcommands = {RunCommand.class, StatusCommand.class, ConnectionsCommand.class, RequestsCommand.class, CheckCommand.class,
        DemoCommand.class, CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success (also a clean stop on SIGTERM/SIGINT)",
      "1:unexpected failure",
      "2:bad command line or configuration (flag, WMSCOPE_* variable or --config file)",
      "3:this host cannot run wmscope (privileges, BTF, cgroup v2, libbpf); `wmscope check` says why",
      "4:another wmscope agent is already running on this host",
      "5:status/connections: no agent answered and no kernel sample could be taken"
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: try `wmscope run`, `wmscope status`, `wmscope check` or `wmscope --help`");
  }

  public static void main(String[] args) {
    Logging.configure(Logging.debug());
    int code = ExitCodes.FAILURE;
    try {
      code = commandLine(System.getenv(), args).execute(args);
    } catch (Throwable t) {
      System.err.println("wmscope: " + t);
    } finally {
      // always exit: a thread left running must never keep a stopped agent alive
      System.exit(code);
    }
  }

  /** The command line with the real environment and no config file (tests). */
  public static CommandLine commandLine() {
    return commandLine(System.getenv(), new String[0]);
  }

  /**
   * The configured command line: settings from {@code env} and the config file named in
   * {@code args} (--config) or the environment (WMSCOPE_CONFIG) fill in what the flags leave.
   */
  public static CommandLine commandLine(Map<String, String> env, String[] args) {
    ConfigLayers layers = ConfigLayers.of(env, args);
    CommandLine cli = new CommandLine(new Main());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    // a regular expression flag's error names the problem, not Java's exception class
    cli.registerConverter(java.util.regex.Pattern.class, text -> {
      try {
        return java.util.regex.Pattern.compile(text);
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new CommandLine.TypeConversionException("not a regular expression: " + e.getDescription()
            + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
      }
    });
    // a bad flag: the reason and where to look, not the whole usage (95 lines) on every typo
    cli.setParameterExceptionHandler((ex, unusedArgs) -> {
      var err = ex.getCommandLine().getErr();
      err.println("wmscope: " + ex.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
      err.println("try: wmscope " + (ex.getCommandLine().getCommandSpec().parent() == null ? ""
          : ex.getCommandLine().getCommandName() + " ") + "--help");
      err.flush();
      return ExitCodes.USAGE;
    });
    cli.setDefaultValueProvider(layers);
    cli.setExitCodeExceptionMapper(t -> switch (t) {
      case CommandLine.ParameterException p -> ExitCodes.USAGE;
      case ConfigException c -> ExitCodes.USAGE;
      case BpfException b -> ExitCodes.HOST_UNSUPPORTED;
      case AgentLock.AlreadyRunning a -> ExitCodes.ALREADY_RUNNING;
      default -> ExitCodes.FAILURE;
    });
    CommandLine.IExecutionStrategy run = new CommandLine.RunLast();
    cli.setExecutionStrategy(parseResult -> {
      boolean help = parseResult.asCommandLineList().stream()
          .anyMatch(c -> c.isUsageHelpRequested() || c.isVersionHelpRequested());
      if (!help) {
        try {
          layers.check(cli.getCommandSpec());
        } catch (ConfigException e) {
          CommandLine last = parseResult.asCommandLineList().getLast();
          last.getErr().println("wmscope: " + e.getMessage());
          last.getErr().flush();
          return ExitCodes.USAGE;
        }
      }
      return run.execute(parseResult);
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      var err = commandLine.getErr();
      if (ex instanceof CommandLine.ParameterException p) {
        err.println("wmscope: " + p.getMessage());
        err.println("try: wmscope " + p.getCommandLine().getCommandName() + " --help");
        return ExitCodes.USAGE;
      }
      if (ex instanceof ConfigException c) {
        err.println("wmscope: " + c.getMessage());
        return ExitCodes.USAGE;
      }
      if (ex instanceof BpfException b) {
        err.println("wmscope: " + b.getMessage());
        if (!b.hint().isEmpty()) {
          err.println("hint: " + b.hint());
        }
        if (!b.log().isEmpty() && Logging.debug()) {
          b.log().forEach(line -> err.println("  " + line));
        }
        err.println("run `wmscope check` to see everything this host lacks");
        return ExitCodes.HOST_UNSUPPORTED;
      }
      if (ex instanceof AgentLock.AlreadyRunning a) {
        err.println("wmscope: " + a.getMessage());
        err.println("hint: " + a.hint());
        return ExitCodes.ALREADY_RUNNING;
      }
      err.println("wmscope: " + ex.getMessage());
      if (Logging.debug()) {
        ex.printStackTrace(err);
      }
      return ExitCodes.FAILURE;
    });
    return cli;
  }
}
