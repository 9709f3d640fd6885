package dev.wmscope.agent;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One line per log event on standard error (standard output is for data). Messages are
 * written for operators: expected failures carry no stack trace. Two formats: human-readable
 * text (the default) and JSON objects, one per line, for log shippers ({@code --log-format json}).
 */
public final class Logging {
  private Logging() {}

  /** How log lines are written. */
  public enum Format {
    /** {@code 2026-11-24T23:20:42.640Z INFO message} */
    TEXT,
    /** {@code {"time":"...","level":"INFO","logger":"...","message":"..."}} */
    JSON
  }

  /** Whether WMSCOPE_DEBUG asks for debug logging and stack traces. */
  public static boolean debug() {
    String v = System.getenv("WMSCOPE_DEBUG");
    return v != null && !v.isEmpty() && !v.equals("0");
  }

  /** Text lines at INFO (FINE with WMSCOPE_DEBUG). */
  public static void configure(boolean verbose) {
    configure(verbose, Format.TEXT, verbose ? Level.FINE : Level.INFO);
  }

  /**
   * Replaces the root handlers with one writing {@code format} lines to standard error.
   *
   * @param level the least severe level shown (e.g. WARNING for commands whose output is a table)
   */
  public static void configure(boolean verbose, Format format, Level level) {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler handler = new ConsoleHandler(); // writes to System.err
    handler.setFormatter(format == Format.JSON ? new JsonFormatter() : new LineFormatter());
    Level effective = verbose && level.intValue() > Level.FINE.intValue() ? Level.FINE : level;
    handler.setLevel(effective);
    root.setLevel(effective);
    root.addHandler(handler);
    // Netty and Vert.x internals stay quiet unless something is wrong
    Logger.getLogger("io.netty").setLevel(Level.WARNING);
    Logger.getLogger("io.vertx").setLevel(Level.WARNING);
  }

  static String level(LogRecord r) {
    return switch (r.getLevel().getName()) {
      case "SEVERE" -> "ERROR";
      case "WARNING" -> "WARN";
      case "INFO" -> "INFO";
      default -> "DEBUG";
    };
  }

  private static final class LineFormatter extends Formatter {
    @Override
    public String format(LogRecord r) {
      String line = Instant.ofEpochMilli(r.getMillis()) + " " + level(r) + " " + formatMessage(r);
      if (r.getThrown() != null && r.getLevel().intValue() >= Level.SEVERE.intValue()) {
        line += " (" + r.getThrown() + ")";
      }
      return line + System.lineSeparator();
    }
  }

  /** One JSON object per line; the message is the same text as in the text format. */
  static final class JsonFormatter extends Formatter {
    @Override
    public String format(LogRecord r) {
      JsonObject j = new JsonObject()
          .put("time", Instant.ofEpochMilli(r.getMillis()).toString())
          .put("level", level(r))
          .put("logger", shortName(r.getLoggerName()))
          .put("message", formatMessage(r));
      if (r.getThrown() != null && r.getLevel().intValue() >= Level.SEVERE.intValue()) {
        j.put("error", r.getThrown().toString());
      }
      return j.encode() + System.lineSeparator();
    }

    private static String shortName(String logger) {
      if (logger == null) {
        return "";
      }
      int dot = logger.lastIndexOf('.');
      return (dot < 0 ? logger : logger.substring(dot + 1)).toLowerCase(Locale.ROOT);
    }
  }
}
