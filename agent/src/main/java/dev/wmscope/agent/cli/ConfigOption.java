package dev.wmscope.agent.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --config FILE}: declared here so picocli accepts and documents it; the file itself is
 * read before parsing ({@link dev.wmscope.agent.config.ConfigLayers#of}), because its values
 * are the defaults of the other flags.
 */
public final class ConfigOption {
  @Option(names = "--config", paramLabel = "FILE",
      description = "YAML file of settings (keys: the long flags of `wmscope run` without dashes)."
          + " Precedence: flags > WMSCOPE_* variables > this file > defaults. Default: WMSCOPE_CONFIG.")
  Path config;
}
