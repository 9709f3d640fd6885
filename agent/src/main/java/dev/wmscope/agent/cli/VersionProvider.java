package dev.wmscope.agent.cli;

import picocli.CommandLine;

/** `wmscope --version`: the agent version and the kernel it runs on. */
public final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = VersionProvider.class.getPackage().getImplementationVersion();
    return new String[] {
      "wmscope " + (version == null ? "dev" : version),
      "Java " + Runtime.version() + ", kernel " + System.getProperty("os.version")
    };
  }
}
