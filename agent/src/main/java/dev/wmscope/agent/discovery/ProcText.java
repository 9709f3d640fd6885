package dev.wmscope.agent.discovery;

/**
 * Makes text that any local user controls (process titles and names, command lines, paths from
 * {@code /proc}, thread names from the kernel) safe to put in log lines, tables, JSON and metric
 * attributes: control characters are written as escapes ({@code \n}, {@code \x1b}), so a title
 * cannot forge a log line or drive a terminal, and the length is capped, so a 10 KB title cannot
 * inflate every series and row it names. Applied once, where the value enters the agent.
 */
public final class ProcText {
  private ProcText() {}

  /** Names: worker names, process titles, thread and command names. */
  public static final int NAME_LIMIT = 256;
  /** Paths and listen addresses. */
  public static final int PATH_LIMIT = 1024;
  /** Appended where text was cut. */
  static final char ELLIPSIS = '\u2026';

  /** {@code s} with control characters escaped, cut at {@code limit} characters (then "…"). */
  public static String clean(String s, int limit) {
    if (s == null) {
      return null;
    }
    boolean dirty = s.length() > limit;
    for (int i = 0; i < s.length() && !dirty; i++) {
      dirty = unsafe(s.charAt(i));
    }
    if (!dirty) {
      return s;
    }
    StringBuilder out = new StringBuilder(Math.min(s.length(), limit) + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String piece = unsafe(c) ? escape(c) : String.valueOf(c);
      if (out.length() + piece.length() > limit) {
        if (Character.isLowSurrogate(c) && out.length() > 0 && Character.isHighSurrogate(out.charAt(out.length() - 1))) {
          out.setLength(out.length() - 1); // never half a character
        }
        return out.append(ELLIPSIS).toString();
      }
      out.append(piece);
    }
    return out.toString();
  }

  /** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
  static boolean unsafe(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
  }

  private static String escape(char c) {
    return switch (c) {
      case '\n' -> "\\n";
      case '\r' -> "\\r";
      case '\t' -> "\\t";
      default -> c <= 0xff ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c);
    };
  }
}
