package dev.wmscope.agent.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table: left-aligned text columns, right-aligned number columns, two spaces apart. */
final class Table {
  private final String[] headers;
  private final boolean[] right;
  private final List<String[]> rows = new ArrayList<>();

  /** Headers; a header starting with '>' is a right-aligned column (the '>' is not shown). */
  Table(String... headers) {
    this.headers = new String[headers.length];
    this.right = new boolean[headers.length];
    for (int i = 0; i < headers.length; i++) {
      right[i] = headers[i].startsWith(">");
      this.headers[i] = right[i] ? headers[i].substring(1) : headers[i];
    }
  }

  Table row(String... cells) {
    if (cells.length != headers.length) {
      throw new IllegalArgumentException("row of " + cells.length + " cells for " + headers.length + " columns");
    }
    rows.add(cells);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  String render() {
    int[] width = new int[headers.length];
    for (int i = 0; i < headers.length; i++) {
      width[i] = headers[i].length();
    }
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    line(out, headers, width);
    for (String[] r : rows) {
      line(out, r, width);
    }
    return out.toString();
  }

  private void line(StringBuilder out, String[] cells, int[] width) {
    StringBuilder l = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        l.append("  ");
      }
      String c = cells[i];
      String pad = " ".repeat(width[i] - c.length());
      l.append(right[i] ? pad + c : c + (i == cells.length - 1 ? "" : pad));
    }
    out.append(l.toString().stripTrailing()).append('\n');
  }

  /**
   * Widest worker name shown whole: webman names plugin processes plugin.VENDOR.APP.PROCESS
   * (plugin.webman.gateway-worker.BusinessWorker is 43), and a cut name can be the wrong one.
   */
  static final int WORKER_NAME = 48;

  /** Shortens text longer than {@code max} with an ellipsis. */
  static String clip(String s, int max) {
    if (s == null) {
      return "-";
    }
    return s.length() <= max ? s : s.substring(0, max - 1) + "~";
  }
}
