package dev.wmscope.loader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Finds the cgroup v2 hierarchy from /proc/mounts: it moves between distributions and modes. */
public final class CgroupV2 {
  private CgroupV2() {}

  /** The first cgroup2 mount point, e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified. */
  public static Optional<Path> findMount(Path procMounts) {
    try {
      return parseMounts(Files.readAllLines(procMounts));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public static Optional<Path> findMount() {
    return findMount(Path.of("/proc/mounts"));
  }

  /** The root of the cgroup v2 hierarchy, or a clear error saying how to get one. */
  public static Path requireMount() {
    return findMount().orElseThrow(() -> new BpfException("find cgroup v2 hierarchy", 0,
        "no cgroup2 mount in /proc/mounts",
        "mount one: mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified"
            + " (or boot with systemd.unified_cgroup_hierarchy=1)", List.of(), null));
  }

  static Optional<Path> parseMounts(List<String> lines) {
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f.length >= 3 && f[2].equals("cgroup2")) {
        // /proc/mounts escapes spaces in paths as \040
        return Optional.of(Path.of(f[1].replace("\\040", " ")));
      }
    }
    return Optional.empty();
  }
}
