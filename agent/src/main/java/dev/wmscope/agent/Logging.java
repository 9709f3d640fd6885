package dev.wmscope.agent;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One line per log event on standard error (standard output is for data). Messages are
 * written for operators: expected failures carry no stack trace.
 */
final class Logging {
  private Logging() {}

  static void configure(boolean verbose) {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler handler = new ConsoleHandler(); // writes to System.err
    handler.setFormatter(new LineFormatter());
    Level level = verbose ? Level.FINE : Level.INFO;
    handler.setLevel(level);
    root.setLevel(level);
    root.addHandler(handler);
    // Netty and Vert.x internals stay quiet unless something is wrong
    Logger.getLogger("io.netty").setLevel(Level.WARNING);
    Logger.getLogger("io.vertx").setLevel(Level.WARNING);
  }

  private static final class LineFormatter extends Formatter {
    @Override
    public String format(LogRecord r) {
      String level = switch (r.getLevel().getName()) {
        case "SEVERE" -> "ERROR";
        case "WARNING" -> "WARN";
        case "INFO" -> "INFO";
        default -> "DEBUG";
      };
      String line = Instant.ofEpochMilli(r.getMillis()) + " " + level + " " + formatMessage(r);
      if (r.getThrown() != null && r.getLevel().intValue() >= Level.SEVERE.intValue()) {
        line += " (" + r.getThrown() + ")";
      }
      return line + System.lineSeparator();
    }
  }
}
