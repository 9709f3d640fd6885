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
    try {
      return parse(text, Duration.ofMillis(100), Duration.ofHours(24));
    } catch (IllegalArgumentException e) {
      throw error.apply(flag + " " + text + ": " + e.getMessage());
    }
  }

  /**
   * A duration between {@code min} and {@code max}.
   *
   * @throws IllegalArgumentException with the reason (not the text), e.g. "not a duration ..."
   */
  static Duration parse(String text, Duration min, Duration max) {
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a duration (use e.g. 500ms, 1s, 2m)");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a duration (use e.g. 500ms, 1s, 2m)");
    }
    Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(Math.min(n, 1_000_000));
      case "h" -> Duration.ofHours(Math.min(n, 1_000_000));
      default -> Duration.ofSeconds(n);
    };
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new IllegalArgumentException("must be between " + text(min) + " and " + text(max));
    }
    return d;
  }

  /** 100ms, 2s, 24h: the shortest exact form. */
  static String text(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
