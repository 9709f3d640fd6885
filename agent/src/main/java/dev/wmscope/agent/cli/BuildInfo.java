package dev.wmscope.agent.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What this agent was built from: version and git commit, written at build time by
 * {@code agent/scripts/build-info.sh} into {@code build-info.properties} next to this class.
 * A class run from an IDE without that build step reports {@code dev} and {@code unknown}.
 *
 * @param version Maven project version
 * @param commit abbreviated git commit id, or {@code unknown}
 * @param commitTime commit time (ISO 8601), or empty
 * @param dirty true when tracked files differed from the commit at build time
 */
public record BuildInfo(String version, String commit, String commitTime, boolean dirty) {

  static final String RESOURCE = "build-info.properties";

  /** The build info of the running agent. */
  public static BuildInfo current() {
    try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        String v = BuildInfo.class.getPackage().getImplementationVersion();
        return new BuildInfo(v == null ? "dev" : v, "unknown", "", false);
      }
      Properties p = new Properties();
      p.load(in);
      return of(p);
    } catch (IOException e) {
      throw new UncheckedIOException("read " + RESOURCE + ": " + e.getMessage(), e);
    }
  }

  static BuildInfo of(Properties p) {
    return new BuildInfo(
        p.getProperty("version", "dev"),
        p.getProperty("commit", "unknown"),
        p.getProperty("commit.time", ""),
        Boolean.parseBoolean(p.getProperty("dirty", "false")));
  }

  /** One line: {@code wmscope 0.1.0 (commit 1a2b3c4d5e6f, 2026-11-24T23:42:01Z)}. */
  public String describe() {
    StringBuilder s = new StringBuilder("wmscope ").append(version).append(" (commit ").append(commit);
    if (dirty) {
      s.append(" with local changes");
    }
    if (!commitTime.isEmpty()) {
      s.append(", ").append(commitTime);
    }
    return s.append(')').toString();
  }
}
