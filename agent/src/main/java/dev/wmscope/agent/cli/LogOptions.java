package dev.wmscope.agent.cli;

import dev.wmscope.agent.Logging;
import java.util.logging.Level;
import picocli.CommandLine.Option;

/** {@code --log-format}: shared by every command that logs (mixed in). */
public final class LogOptions {
  @Option(names = "--log-format", paramLabel = "FORMAT",
      description = "Log lines on stderr: text or json (default: text; WMSCOPE_LOG_FORMAT, log-format in --config).")
  Logging.Format logFormat = Logging.Format.TEXT;

  /** Installs the chosen format; {@code level} is the least severe level shown. */
  void apply(Level level) {
    Logging.configure(Logging.debug(), logFormat, level);
  }
}
