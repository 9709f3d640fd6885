package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CgroupV2Test {
  @Test
  void findsHybridUnifiedMount() {
    var lines = List.of(
        "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0",
        "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0",
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0");
    assertThat(CgroupV2.parseMounts(lines)).contains(Path.of("/sys/fs/cgroup/unified"));
  }

  @Test
  void findsUnifiedRootAndUnescapesSpaces() {
    assertThat(CgroupV2.parseMounts(List.of("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0"))).contains(Path.of("/sys/fs/cgroup"));
    assertThat(CgroupV2.parseMounts(List.of("none /mnt/my\\040cg cgroup2 rw 0 0"))).contains(Path.of("/mnt/my cg"));
  }

  @Test
  void noneWithoutCgroup2() {
    assertThat(CgroupV2.parseMounts(List.of("cgroup /sys/fs/cgroup/cpu cgroup rw 0 0"))).isEmpty();
  }

  @Test
  void possibleCpusParsesRanges() {
    assertThat(PossibleCpus.parse("0-3\n")).isEqualTo(4);
    assertThat(PossibleCpus.parse("0,2-5")).isEqualTo(6);
    assertThat(PossibleCpus.parse("0")).isEqualTo(1);
  }
}
