package dev.wmscope.agent.cli;

import java.util.Locale;

/** Numbers for people: bytes in binary units, rates, microseconds, ages. */
final class Human {
  private Human() {}

  static String bytes(double n) {
    if (n < 0 || Double.isNaN(n)) {
      return "-";
    }
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    if (i == 0) {
      return Math.round(n) + " B";
    }
    return String.format(Locale.ROOT, n >= 100 ? "%.0f %s" : "%.1f %s", n, units[i]);
  }

  static String rate(double bytesPerSecond) {
    return bytes(bytesPerSecond) + "/s";
  }

  static String micros(long us) {
    if (us <= 0) {
      return "-";
    }
    if (us < 1000) {
      return us + "us";
    }
    if (us < 1_000_000) {
      return String.format(Locale.ROOT, us < 10_000 ? "%.2fms" : "%.1fms", us / 1000.0);
    }
    return String.format(Locale.ROOT, "%.2fs", us / 1e6);
  }

  static String number(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return String.format(Locale.ROOT, d >= 100 ? "%.0f" : "%.1f", d);
  }

  static String age(double seconds) {
    if (seconds < 10) {
      return String.format(Locale.ROOT, "%.1fs", seconds);
    }
    long s = Math.round(seconds);
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return s / 60 + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
    }
    if (s < 86400) {
      return s / 3600 + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
    return s / 86400 + "d" + String.format(Locale.ROOT, "%02d", (s % 86400) / 3600) + "h";
  }

  static String hostPort(String host, long port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
