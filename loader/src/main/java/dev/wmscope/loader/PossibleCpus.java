package dev.wmscope.loader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Number of possible CPUs, which sizes per-CPU map values. Parsed from
 * /sys/devices/system/cpu/possible (e.g. "0-3" or "0,2-5") the way libbpf does.
 */
final class PossibleCpus {
  private static volatile int cached;

  private PossibleCpus() {}

  static int count() {
    int n = cached;
    if (n == 0) {
      try {
        n = parse(Files.readString(Path.of("/sys/devices/system/cpu/possible")));
      } catch (IOException e) {
        n = Runtime.getRuntime().availableProcessors();
      }
      cached = n;
    }
    return n;
  }

  static int parse(String ranges) {
    int max = -1;
    for (String part : ranges.trim().split(",")) {
      String[] bounds = part.split("-");
      max = Math.max(max, Integer.parseInt(bounds[bounds.length - 1].trim()));
    }
    return max + 1;
  }
}
