package dev.wmscope.agent.cli;

import java.time.Duration;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses operator-friendly durations: 500ms, 1s, 2m, 1h (a bare number is seconds). */
final class Durations {
  private static final Pattern FORM = Pattern.compile("(\\d+)(ms|s|m|h)?");

  private Durations() {}

  static Duration parse(String flag, String text, Function<String, ? extends RuntimeException> error) {
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      throw error.apply(flag + " " + text + ": not a duration (use e.g. 500ms, 1s, 2m)");
    }
    long n = Long.parseLong(m.group(1));
    Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
    if (d.toMillis() < 100 || d.toHours() > 24) {
      throw error.apply(flag + " " + text + ": must be between 100ms and 24h");
    }
    return d;
  }
}
