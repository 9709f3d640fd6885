package dev.wmscope.agent.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the {@code libbpf.so.1} the dynamic linker would load, without loading it, and reads
 * its full version from the file the soname link points to ({@code libbpf.so.1.1.2} is 1.1.2).
 * Search order as the linker's: {@code LD_LIBRARY_PATH}, the {@code ldconfig -p} cache, then
 * the usual library directories. Used by {@code wmscope --version}; never throws.
 */
final class LibbpfVersion {
  private LibbpfVersion() {}

  static final String SONAME = "libbpf.so.1";

  private static final Pattern VERSIONED = Pattern.compile("libbpf\\.so\\.(\\d+(?:\\.\\d+)*)$");
  // ldconfig -p: "	libbpf.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libbpf.so.1"
  private static final Pattern CACHE_LINE = Pattern.compile("^\\s*libbpf\\.so\\.1 \\(([^)]*)\\) => (\\S+)$");

  private static final List<String> DEFAULT_DIRS = List.of(
      "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
      "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib");

  /** A found library: the path the soname resolves to and the version read from its name. */
  record Found(Path path, String version) {}

  /** One line for {@code --version}. */
  static String describe() {
    return find(candidates())
        .map(f -> "libbpf " + f.version() + " (" + f.path() + ")")
        .orElse("libbpf: " + SONAME + " not found (install libbpf1 / libbpf >= 1.0)");
  }

  static List<Path> candidates() {
    List<Path> out = new ArrayList<>();
    String ldPath = System.getenv("LD_LIBRARY_PATH");
    if (ldPath != null) {
      for (String dir : ldPath.split(":")) {
        if (!dir.isEmpty()) {
          out.add(Path.of(dir, SONAME));
        }
      }
    }
    out.addAll(fromCache(ldconfigCache()));
    DEFAULT_DIRS.forEach(dir -> out.add(Path.of(dir, SONAME)));
    return out;
  }

  /** Paths for libbpf.so.1 in {@code ldconfig -p} output, this machine's word size first. */
  static List<Path> fromCache(List<String> lines) {
    List<Path> native64 = new ArrayList<>();
    List<Path> other = new ArrayList<>();
    for (String line : lines) {
      Matcher m = CACHE_LINE.matcher(line);
      if (m.matches()) {
        (m.group(1).contains("64") ? native64 : other).add(Path.of(m.group(2)));
      }
    }
    native64.addAll(other);
    return native64;
  }

  /** The first candidate that exists, with the version from the name its links resolve to. */
  static Optional<Found> find(List<Path> candidates) {
    for (Path candidate : candidates) {
      if (!Files.exists(candidate)) {
        continue;
      }
      try {
        Path real = candidate.toRealPath();
        return Optional.of(new Found(real, versionOf(real.getFileName().toString())));
      } catch (IOException e) {
        // vanished or unreadable: try the next
      }
    }
    return Optional.empty();
  }

  /** "1.1.2" from "libbpf.so.1.1.2"; "1 (exact version unknown)" when only the soname exists. */
  static String versionOf(String fileName) {
    Matcher m = VERSIONED.matcher(fileName);
    if (!m.find()) {
      return "(version unknown)";
    }
    String v = m.group(1);
    return v.contains(".") ? v : v + " (exact version unknown)";
  }

  private static List<String> ldconfigCache() {
    for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
      if (!Files.isExecutable(Path.of(ldconfig))) {
        continue;
      }
      try {
        Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return new String(out, StandardCharsets.UTF_8).lines().toList();
        }
        p.destroy();
      } catch (IOException e) {
        return List.of();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return List.of();
      }
    }
    return List.of();
  }
}
