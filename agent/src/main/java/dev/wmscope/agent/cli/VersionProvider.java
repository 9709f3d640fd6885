package dev.wmscope.agent.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * {@code wmscope --version}: what was built (version, git commit) and what it runs on (libbpf,
 * kernel, Java), the four facts a bug report needs. Loads nothing native.
 */
public final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {
      BuildInfo.current().describe(),
      LibbpfVersion.describe(),
      kernel(),
      "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")"
    };
  }

  static String kernel() {
    boolean btf = Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"));
    return "kernel " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch") + (btf ? " (BTF)" : " (no BTF at /sys/kernel/btf/vmlinux)");
  }
}
