package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The capabilities the shipped deployments grant (the systemd unit's AmbientCapabilities, the
 * DaemonSet's securityContext) are exactly what `wmscope check` asks for: with them, as the
 * unprivileged user they run as, the check passes; without any one of them it does not. So the
 * deployments can neither lack a capability nor carry one the agent does not need.
 */
class LeastPrivilegeTest {
  private static final Map<String, Integer> BITS = Map.of("CAP_NET_ADMIN", HostChecks.CAP_NET_ADMIN,
      "CAP_SYS_PTRACE", HostChecks.CAP_SYS_PTRACE, "CAP_SYS_ADMIN", HostChecks.CAP_SYS_ADMIN,
      "CAP_PERFMON", HostChecks.CAP_PERFMON, "CAP_BPF", HostChecks.CAP_BPF);
  /** systemd's DynamicUser: an unprivileged uid. */
  private static final long DYNAMIC_USER = 61_234;

  private static Path repo(String relative) {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("agent/pom.xml"))) {
        return p.resolve(relative);
      }
    }
    throw new IllegalStateException("repository root not found");
  }

  private static List<String> systemdCapabilities() throws IOException {
    for (String line : Files.readAllLines(repo("deploy/systemd/wmscope.service"))) {
      if (line.startsWith("AmbientCapabilities=")) {
        return Arrays.asList(line.substring("AmbientCapabilities=".length()).strip().split("\\s+"));
      }
    }
    throw new AssertionError("no AmbientCapabilities= in the unit");
  }

  private static List<String> daemonSetCapabilities() throws IOException {
    Matcher m = Pattern.compile("(?m)^\\s*add:\\s*\\[([^]]*)]").matcher(Files.readString(repo("deploy/kubernetes/daemonset.yaml")));
    assertThat(m.find()).as("capabilities.add in the DaemonSet").isTrue();
    List<String> caps = new ArrayList<>();
    for (String c : m.group(1).split(",")) {
      caps.add("CAP_" + c.strip().replace("\"", ""));
    }
    return caps;
  }

  private static HostChecks.Status check(long uid, List<String> caps) {
    long set = 0;
    for (String c : caps) {
      assertThat(BITS).as("a capability `wmscope check` knows").containsKey(c);
      set |= 1L << BITS.get(c);
    }
    return HostChecks.privileges(Optional.of(new HostChecks.Privileges(uid, set))).status();
  }

  private static void assertExactlyWhatTheCheckNeeds(long uid, List<String> caps) {
    assertThat(check(uid, caps)).as("check with " + caps).isEqualTo(HostChecks.Status.OK);
    for (String dropped : caps) {
      List<String> fewer = new ArrayList<>(caps);
      fewer.remove(dropped);
      assertThat(check(uid, fewer)).as("check without " + dropped).isNotEqualTo(HostChecks.Status.OK);
    }
  }

  @Test
  void theSystemdUnitGrantsExactlyWhatTheCheckNeeds() throws IOException {
    assertExactlyWhatTheCheckNeeds(DYNAMIC_USER, systemdCapabilities());
  }

  @Test
  void theDaemonSetGrantsExactlyWhatTheCheckNeeds() throws IOException {
    // runAsUser 0 with every capability dropped but these: root without CAP_SYS_PTRACE cannot
    // read other users' /proc/PID/fd either
    Matcher uid = Pattern.compile("runAsUser:\\s*(\\d+)").matcher(Files.readString(repo("deploy/kubernetes/daemonset.yaml")));
    assertThat(uid.find()).isTrue();
    assertExactlyWhatTheCheckNeeds(Long.parseLong(uid.group(1)), daemonSetCapabilities());
  }
}
