package dev.wmscope.agent.cli;

import dev.wmscope.agent.AgentLock;
import dev.wmscope.agent.http.HttpAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How {@code status}, {@code connections} and {@code check} find a running agent: its HTTP
 * address, or the lock file that names it; with no agent answering, status and connections
 * sample the kernel themselves.
 */
final class AgentAddressOptions {
  @Option(names = "--http-address", paramLabel = "HOST:PORT",
      description = "Where the agent's HTTP server listens (default: 127.0.0.1:9464; WMSCOPE_HTTP_ADDRESS).")
  String httpAddress = HttpAddress.DEFAULT.toString();

  @Option(names = "--lock-file", paramLabel = "PATH",
      description = "The running agent's lock file, which names its HTTP address (default: /run/wmscope/wmscope.lock).")
  Path lockFile = AgentLock.DEFAULT_PATH;

  @Option(names = "--http-token-file", paramLabel = "PATH",
      description = "The file with the agent's bearer token, when it was started with one.")
  Path httpTokenFile;

  /**
   * The agent to ask, or a kernel sample when none answers within {@code poll}; {@code sampling}
   * hears why it samples. {@code spec} is the command's, for the error of a bad address.
   */
  StatusTarget open(CommandLine.Model.CommandSpec spec, Duration poll, Consumer<String> sampling) throws Exception {
    return StatusTarget.open(address(spec, httpAddress), lockFile, poll, sampling, HttpToken.read(spec, httpTokenFile));
  }

  /** What a command does with the agent it reads (or the kernel sample standing in for one). */
  interface TargetUse {
    void accept(StatusTarget target) throws Exception;
  }

  /**
   * Runs {@code use} against the agent's API or, when none answers, against a kernel sample of
   * {@code sampleFor} (said on stderr). Returns the exit code: OK, or NO_DATA when neither an
   * agent nor a sample could be had (the reason printed).
   */
  int withTarget(CommandLine.Model.CommandSpec spec, Duration sampleFor, TargetUse use) throws Exception {
    java.io.PrintWriter err = spec.commandLine().getErr();
    StatusTarget target;
    try {
      target = open(spec, Duration.ofMillis(250), note -> {
        err.println("wmscope: " + note + " for " + Durations.text(sampleFor));
        err.flush();
      });
    } catch (dev.wmscope.loader.BpfException e) {
      return StatusCommand.noData(err, e);
    }
    try (target) {
      if (target.embedded()) {
        Thread.sleep(sampleFor.toMillis());
      }
      use.accept(target);
    }
    return dev.wmscope.agent.ExitCodes.OK;
  }

  /** {@code --http-address} of any command: {@code none} is no address; a bad one exits 2 naming the flag. */
  static Optional<HttpAddress> address(CommandLine.Model.CommandSpec spec, String text) {
    if (text.equalsIgnoreCase("none")) {
      return Optional.empty();
    }
    try {
      return Optional.of(HttpAddress.parse(text));
    } catch (IllegalArgumentException e) {
      throw Sources.bad(spec, "--http-address", text, HttpAddress.reason(text, e));
    }
  }
}
