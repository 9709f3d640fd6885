package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `wmscope check`'s reading of the host, on made-up hosts. */
class HostChecksTest {
  @TempDir Path dir;

  private HostChecks.Host host(String release, boolean btf, String mounts, String status) throws IOException {
    Path b = dir.resolve("vmlinux");
    if (btf) {
      Files.writeString(b, "btf");
    }
    Path m = Files.writeString(dir.resolve("mounts"), mounts);
    Path s = Files.writeString(dir.resolve("status"), status);
    return new HostChecks.Host("Linux", release, b, m, s);
  }

  private static String status(long uid, long caps) {
    return "Name:\tjava\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\nCapEff:\t" + String.format("%016x", caps) + "\n";
  }

  @Test
  void kernelVersions() throws IOException {
    assertThat(HostChecks.kernel(host("6.18.44-fc", true, "", "")).status()).isEqualTo(HostChecks.Status.OK);
    HostChecks.Result old = HostChecks.kernel(host("6.1.0-13-amd64", true, "", ""));
    assertThat(old.status()).isEqualTo(HostChecks.Status.WARN);
    assertThat(old.fix()).contains("6.3");
    HostChecks.Result ancient = HostChecks.kernel(host("4.19.0", true, "", ""));
    assertThat(ancient.status()).isEqualTo(HostChecks.Status.FAIL);
    assertThat(ancient.fix()).contains("5.12");
    // bpf_get_socket_cookie in tracing programs arrived in 5.12
    assertThat(HostChecks.kernel(host("5.11.22", true, "", "")).status()).isEqualTo(HostChecks.Status.FAIL);
    assertThat(HostChecks.kernel(host("5.12.0", true, "", "")).status()).isEqualTo(HostChecks.Status.WARN);
    assertThat(HostChecks.kernel(new HostChecks.Host("Mac OS X", "14.1", dir, dir, dir)).status())
        .isEqualTo(HostChecks.Status.FAIL);
  }

  @Test
  void btfAndCgroup() throws IOException {
    assertThat(HostChecks.btf(host("6.8", false, "", "")).fix()).contains("CONFIG_DEBUG_INFO_BTF");
    assertThat(HostChecks.btf(host("6.8", true, "", "")).status()).isEqualTo(HostChecks.Status.OK);
    HostChecks.Result none = HostChecks.cgroup(host("6.8", true, "proc /proc proc rw 0 0\n", ""));
    assertThat(none.status()).isEqualTo(HostChecks.Status.FAIL);
    assertThat(none.fix()).contains("mount -t cgroup2");
    assertThat(HostChecks.cgroup(host("6.8", true, "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n", "")).detail())
        .isEqualTo("/sys/fs/cgroup");
  }

  @Test
  void privilegesFromTheCapabilitySet() throws IOException {
    long all = (1L << 41) - 1;
    long agentSet = (1L << HostChecks.CAP_BPF) | (1L << HostChecks.CAP_PERFMON) | (1L << HostChecks.CAP_NET_ADMIN)
        | (1L << HostChecks.CAP_SYS_PTRACE);
    assertThat(check(0, all).status()).isEqualTo(HostChecks.Status.OK);
    assertThat(check(997, agentSet).status()).isEqualTo(HostChecks.Status.OK);
    HostChecks.Result noPtrace = check(997, agentSet & ~(1L << HostChecks.CAP_SYS_PTRACE));
    assertThat(noPtrace.status()).isEqualTo(HostChecks.Status.WARN);
    assertThat(noPtrace.fix()).contains("CAP_SYS_PTRACE");

    HostChecks.Result nobody = check(65534, 0);
    assertThat(nobody.status()).isEqualTo(HostChecks.Status.FAIL);
    assertThat(nobody.detail()).isEqualTo("uid 65534 without CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN (and without CAP_SYS_ADMIN)");
    assertThat(nobody.fix()).startsWith("run as root").contains("--cap-add BPF,PERFMON,NET_ADMIN,SYS_PTRACE");

    HostChecks.Result dropped = check(0, all & ~(1L << HostChecks.CAP_BPF) & ~(1L << HostChecks.CAP_SYS_ADMIN));
    assertThat(dropped.status()).isEqualTo(HostChecks.Status.FAIL);
    assertThat(dropped.detail()).startsWith("root without CAP_BPF");
    assertThat(dropped.fix()).contains("capabilities taken away");
  }

  private HostChecks.Result check(long uid, long caps) throws IOException {
    return HostChecks.privileges(HostChecks.privileges(host("6.8", true, "", status(uid, caps))));
  }

  @Test
  void renderingSaysWhatToDoAndTheResult() {
    String text = CheckCommand.render(List.of(
        new HostChecks.Result("kernel", HostChecks.Status.OK, "Linux 6.8", ""),
        new HostChecks.Result("privileges", HostChecks.Status.FAIL, "uid 1000 without CAP_BPF", "run as root")), 1, 0, 0);
    assertThat(text).contains("  ok        kernel      Linux 6.8", "  FAIL      privileges  uid 1000 without CAP_BPF",
        "fix: run as root", "result: this host cannot run wmscope yet: 1 problem (exit 3)");
    assertThat(CheckCommand.render(List.of(new HostChecks.Result("kernel", HostChecks.Status.WARN, "old", "upgrade")), 0, 1, 0))
        .contains("result: this host can run wmscope (1 warning)");
    assertThat(HostChecks.privileges(Optional.empty()).status()).isEqualTo(HostChecks.Status.WARN);
  }

  @Test
  void aLostOptionalFeatureIsARowWithItsCauseAndConsequenceNotAProblem() {
    var lost = FeatureStatus.lost(KernelFeature.TRACKED_ITER, "refused by the kernel: EPERM loading wmscope_iter_tracked");
    HostChecks.Result row = HostChecks.feature(lost);
    assertThat(row.name()).isEqualTo("tracked_iter");
    assertThat(row.status()).isEqualTo(HostChecks.Status.DEGRADED);
    assertThat(row.detail()).isEqualTo("refused by the kernel: EPERM loading wmscope_iter_tracked: live reads walk every"
        + " TCP socket of the host (iter/tcp) on every poll: slower with many sockets");
    assertThat(HostChecks.feature(FeatureStatus.lost(KernelFeature.ADOPTION, "turned off")).status())
        .isEqualTo(HostChecks.Status.MISSING);
    assertThat(HostChecks.feature(FeatureStatus.ok(KernelFeature.RESET_MARKS)).status()).isEqualTo(HostChecks.Status.OK);

    String text = CheckCommand.render(List.of(
        new HostChecks.Result("load", HostChecks.Status.OK, "core programs loaded", ""), row), 0, 0, 1);
    assertThat(text).contains("  degraded  tracked_iter  refused by the kernel: EPERM")
        .contains("result: this host can run wmscope (1 optional kernel feature not in use)");
  }
}
