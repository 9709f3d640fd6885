package dev.wmscope.agent.config;

/**
 * A configuration file or WMSCOPE_* variable that cannot be used: unknown key, bad value,
 * unreadable or invalid file. The message names the source and key and says why; the CLI
 * prints it without a stack trace and exits with {@code ExitCodes.USAGE}.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
