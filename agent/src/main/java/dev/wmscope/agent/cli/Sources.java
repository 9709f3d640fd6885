package dev.wmscope.agent.cli;

import dev.wmscope.agent.config.ConfigLayers;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Names the source of a setting's value in error messages: the flag when it was on the command
 * line, else the WMSCOPE_* variable or the config file line that supplied it.
 */
final class Sources {
  private Sources() {}

  /** "--poll-interval soon", "WMSCOPE_POLL_INTERVAL=soon" or "FILE line 3: poll-interval: soon". */
  static String describe(CommandSpec spec, String flag, String value) {
    OptionSpec option = spec.findOption(flag);
    if (option != null && option.originalStringValues().isEmpty()
        && spec.defaultValueProvider() instanceof ConfigLayers layers) {
      Optional<ConfigLayers.Setting> origin = layers.origin(option);
      if (origin.isPresent()) {
        return origin.get().describe();
      }
    }
    return flag + " " + value;
  }

  /** A usage error (exit 2) about a setting's value, naming where the value came from. */
  static CommandLine.ParameterException bad(CommandSpec spec, String flag, String value, String reason) {
    return new CommandLine.ParameterException(spec.commandLine(), describe(spec, flag, value) + ": " + reason);
  }
}
