package dev.wmscope.agent.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code --http-token-file}: the bearer token of the agent's HTTP server, read from a file so it
 * never shows in a process list. The file holds the token alone (surrounding white space is
 * dropped); an unreadable or empty file is a configuration error (exit 2).
 */
final class HttpToken {
  private HttpToken() {}

  static final String FLAG = "--http-token-file";

  static Optional<String> read(CommandLine.Model.CommandSpec spec, Path file) {
    if (file == null) {
      return Optional.empty();
    }
    String token;
    try {
      token = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException | RuntimeException e) {
      throw Sources.bad(spec, FLAG, file.toString(), "cannot read it (" + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
    }
    if (token.isEmpty()) {
      throw Sources.bad(spec, FLAG, file.toString(), "the file is empty; write the token into it");
    }
    if (token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw Sources.bad(spec, FLAG, file.toString(), "the token must be printable ASCII without spaces");
    }
    return Optional.of(token);
  }
}
