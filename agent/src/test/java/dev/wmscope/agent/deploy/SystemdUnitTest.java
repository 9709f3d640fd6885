package dev.wmscope.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/systemd/wmscope.service: least privilege, restart policy, and systemd accepts it. */
class SystemdUnitTest {
  static final String UNIT = "deploy/systemd/wmscope.service";

  /** section -> key -> values (a key may repeat). */
  static Map<String, Map<String, List<String>>> parse(String text) {
    Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
    Map<String, List<String>> section = null;
    for (String raw : text.lines().toList()) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[")) {
        section = out.computeIfAbsent(line.substring(1, line.length() - 1), k -> new LinkedHashMap<>());
        continue;
      }
      int eq = line.indexOf('=');
      assertThat(section).as("key outside a section: %s", line).isNotNull();
      assertThat(eq).as("not key=value: %s", line).isPositive();
      section.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
    }
    return out;
  }

  private final Map<String, Map<String, List<String>>> unit = parse(Repo.read(UNIT));

  private String one(String section, String key) {
    List<String> v = unit.getOrDefault(section, Map.of()).get(key);
    assertThat(v).as("[%s] %s", section, key).isNotNull().hasSize(1);
    return v.getFirst();
  }

  @Test
  void runsTheDistributionWithItsEnvironmentFile() {
    assertThat(unit).containsKeys("Unit", "Service", "Install");
    assertThat(one("Service", "ExecStart")).isEqualTo("/opt/wmscope/bin/wmscope run $WMSCOPE_ARGS");
    assertThat(one("Service", "EnvironmentFile")).isEqualTo("-/etc/wmscope/wmscope.env");
    assertThat(one("Install", "WantedBy")).isEqualTo("multi-user.target");
    assertThat(one("Service", "KillSignal")).isEqualTo("SIGTERM");
  }

  @Test
  void holdsOnlyTheCapabilitiesTheAgentUses() {
    List<String> caps = Arrays.asList(one("Service", "AmbientCapabilities").split("\\s+"));
    assertThat(caps).containsExactlyInAnyOrder("CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN", "CAP_SYS_PTRACE");
    assertThat(Arrays.asList(one("Service", "CapabilityBoundingSet").split("\\s+"))).containsExactlyInAnyOrderElementsOf(caps);
    assertThat(one("Service", "DynamicUser")).isEqualTo("yes");
    assertThat(one("Service", "NoNewPrivileges")).isEqualTo("yes");
    assertThat(one("Service", "ProtectSystem")).isEqualTo("strict");
    assertThat(one("Service", "ProtectHome")).isEqualTo("yes");
    assertThat(unit.get("Service")).as("would hide the processes the agent discovers").doesNotContainKeys("ProtectProc", "PrivateUsers");
    assertThat(unit.get("Service")).as("breaks the JVM").doesNotContainKey("MemoryDenyWriteExecute");
  }

  @Test
  void restartsOnFailureButNotOnConfigurationErrors() {
    assertThat(one("Service", "Restart")).isEqualTo("on-failure");
    assertThat(one("Service", "RestartSec")).isNotBlank();
    // USAGE, HOST_UNSUPPORTED and ALREADY_RUNNING: restarting cannot fix these
    assertThat(one("Service", "RestartPreventExitStatus").split("\\s+"))
        .containsExactlyInAnyOrder(String.valueOf(dev.wmscope.agent.ExitCodes.USAGE),
            String.valueOf(dev.wmscope.agent.ExitCodes.HOST_UNSUPPORTED),
            String.valueOf(dev.wmscope.agent.ExitCodes.ALREADY_RUNNING));
    // the one-agent-per-host lock lives in /run/wmscope, which a dynamic user cannot create
    assertThat(one("Service", "RuntimeDirectory")).isEqualTo("wmscope");
    assertThat(unit.get("Unit")).containsKeys("StartLimitIntervalSec", "StartLimitBurst");
  }

  @Test
  void systemdAcceptsTheUnit(@TempDir Path dir) throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
    // verify checks that ExecStart exists: point it at a binary that does
    Path copy = dir.resolve("wmscope.service");
    Files.writeString(copy, Repo.read(UNIT).replace("/opt/wmscope/bin/wmscope", "/bin/true"));
    Process p = new ProcessBuilder(analyze.toString(), "verify", copy.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).as("systemd-analyze verify warnings").isBlank();
  }

  @Test
  void installStepsAreDocumented() throws IOException {
    String readme = Repo.read("README.md");
    assertThat(readme).contains("deploy/systemd/wmscope.service", "/etc/wmscope/wmscope.env", "systemctl enable --now wmscope");
  }
}
