package dev.wmscope.agent.cli;

import dev.wmscope.agent.AgentLock;
import dev.wmscope.loader.BpfException;
import dev.wmscope.loader.BpfObject;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code wmscope check} looks at: each requirement of the agent, read from this host without
 * loading anything, then (when all pass) one real load and attach of the programs. Every
 * failure says what to do about it.
 */
final class HostChecks {
  private HostChecks() {}

  /**
   * How a check came out. FAIL means the agent cannot run; WARN means it runs with less;
   * DEGRADED and MISSING are optional kernel features lost (a fallback does the work at a cost,
   * or the function is gone): the agent runs.
   */
  enum Status {
    OK,
    WARN,
    FAIL,
    SKIP,
    INFO,
    DEGRADED,
    MISSING
  }

  /** One check's result. {@code fix} is empty unless something must be done. */
  record Result(String name, Status status, String detail, String fix) {}

  // capability numbers (linux/capability.h)
  static final int CAP_NET_ADMIN = 12;
  static final int CAP_SYS_PTRACE = 19;
  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_PERFMON = 38;
  static final int CAP_BPF = 39;

  private static final Pattern KERNEL = Pattern.compile("^(\\d+)\\.(\\d+)");

  /** The host facts checks read; a test substitutes them. */
  record Host(String osName, String kernelRelease, Path btf, Path procMounts, Path procSelfStatus) {
    static Host current() {
      return new Host(System.getProperty("os.name"), System.getProperty("os.version"),
          Path.of("/sys/kernel/btf/vmlinux"), Path.of("/proc/mounts"), Path.of("/proc/self/status"));
    }
  }

  static Result kernel(Host h) {
    if (!h.osName().toLowerCase(Locale.ROOT).contains("linux")) {
      return new Result("kernel", Status.FAIL, h.osName() + " " + h.kernelRelease(), "wmscope needs Linux >= 5.12");
    }
    Matcher m = KERNEL.matcher(h.kernelRelease());
    if (!m.find()) {
      return new Result("kernel", Status.WARN, "Linux " + h.kernelRelease() + " (version not understood)", "");
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    int v = major * 1000 + minor;
    if (v < 5012) {
      return new Result("kernel", Status.FAIL, "Linux " + h.kernelRelease() + " (older than 5.12)",
          "upgrade to Linux >= 5.12 (ring buffers, sock_ops links, tp_btf, socket cookies and storage in"
              + " tracing programs); >= 6.3 to attribute accepted"
              + " connections to workers");
    }
    if (v < 6003) {
      return new Result("kernel", Status.WARN, "Linux " + h.kernelRelease()
          + " (>= 5.12: runs; before 6.3 without recv_attribution: servers accepting without asking the"
          + " peer's address are attributed at close)",
          "upgrade to Linux >= 6.3 to attribute every accepted connection at its first receive");
    }
    return new Result("kernel", Status.OK, "Linux " + h.kernelRelease() + " (>= 5.12 needed; what this build"
        + " allows beyond the core is listed below, feature by feature)", "");
  }

  static Result btf(Host h) {
    if (Files.isReadable(h.btf())) {
      long size;
      try {
        size = Files.size(h.btf());
      } catch (IOException e) {
        size = -1;
      }
      return new Result("BTF", Status.OK, h.btf() + (size > 0 ? " (" + Human.bytes(size) + ")" : ""), "");
    }
    return new Result("BTF", Status.FAIL, h.btf() + " missing or unreadable",
        "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels >= 5.8 are)");
  }

  static Result cgroup(Host h) {
    Optional<Path> mount = CgroupV2.findMount(h.procMounts());
    return mount.map(p -> new Result("cgroup v2", Status.OK, p.toString(), ""))
        .orElseGet(() -> new Result("cgroup v2", Status.FAIL, "no cgroup2 mount in " + h.procMounts(),
            "mount one: mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified"));
  }

  /** The effective uid and capability set from /proc/self/status. */
  record Privileges(long uid, long capEff) {
    boolean has(int cap) {
      return (capEff & (1L << cap)) != 0;
    }
  }

  static Optional<Privileges> privileges(Host h) {
    try {
      long uid = -1;
      long caps = 0;
      for (String line : Files.readAllLines(h.procSelfStatus())) {
        if (line.startsWith("Uid:")) {
          uid = Long.parseLong(line.substring(4).trim().split("\\s+")[1]); // real, effective, saved, fs
        } else if (line.startsWith("CapEff:")) {
          caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
        }
      }
      return Optional.of(new Privileges(uid, caps));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  static Result privileges(Optional<Privileges> p) {
    if (p.isEmpty()) {
      return new Result("privileges", Status.WARN, "cannot read /proc/self/status", "");
    }
    Privileges v = p.get();
    Map<Integer, String> names = Map.of(CAP_BPF, "CAP_BPF", CAP_PERFMON, "CAP_PERFMON", CAP_NET_ADMIN, "CAP_NET_ADMIN");
    List<String> missing = new ArrayList<>();
    for (int cap : List.of(CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)) {
      if (!v.has(cap)) {
        missing.add(names.get(cap));
      }
    }
    String who = v.uid() == 0 ? "root" : "uid " + v.uid();
    if (missing.isEmpty() || v.has(CAP_SYS_ADMIN) && v.has(CAP_NET_ADMIN)) {
      // root too: a uid 0 whose capabilities were cut (a container) cannot read other users' fds
      if (!v.has(CAP_SYS_PTRACE)) {
        return new Result("privileges", Status.WARN, who + " with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN but not"
            + " CAP_SYS_PTRACE", "grant CAP_SYS_PTRACE too, or sockets of other users' processes (adopted"
            + " connections, listener owners) cannot be matched to their worker");
      }
      return new Result("privileges", Status.OK, who + (v.uid() == 0 && missing.isEmpty() ? "" : " with the needed"
          + " capabilities"), "");
    }
    String grant = "grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_PTRACE (systemd: AmbientCapabilities=;"
        + " docker/podman: --cap-add BPF,PERFMON,NET_ADMIN,SYS_PTRACE; Kubernetes: securityContext.capabilities.add)";
    return new Result("privileges", Status.FAIL, who + " without " + String.join(", ", missing)
        + (v.has(CAP_SYS_ADMIN) ? "" : " (and without CAP_SYS_ADMIN)"),
        v.uid() == 0 ? "this root has had capabilities taken away (a container, capsh or a bounding set): " + grant
            : "run as root (sudo wmscope run), or " + grant);
  }

  static Result libbpf() {
    Optional<LibbpfVersion.Found> found = LibbpfVersion.find(LibbpfVersion.candidates());
    if (found.isEmpty()) {
      return new Result("libbpf", Status.FAIL, LibbpfVersion.SONAME + " not found",
          "install libbpf >= 1.0: apt-get install libbpf1 (Debian/Ubuntu), dnf install libbpf (Fedora/RHEL)");
    }
    return new Result("libbpf", Status.OK, found.get().version() + " (" + found.get().path() + ")", "");
  }

  /** Looks the core's tracepoints up in the kernel's BTF through libbpf (loads no program). */
  static Result tracepoints() {
    List<String> missing = new ArrayList<>();
    try {
      for (String t : KernelFeature.CORE_TRACEPOINTS) {
        if (!BpfObject.kernelHasTracepoint(t)) {
          missing.add(t);
        }
      }
    } catch (RuntimeException | LinkageError e) {
      return new Result("tracepoints", Status.SKIP, "not checked (" + e.getMessage() + ")", "");
    }
    if (!missing.isEmpty()) {
      return new Result("tracepoints", Status.FAIL, "missing " + String.join(", ", missing),
          "use Linux >= 5.12 with BTF; this tracepoint closes every tracked connection");
    }
    return new Result("tracepoints", Status.OK, String.join(", ", KernelFeature.CORE_TRACEPOINTS)
        + " (the optional ones are checked with their features)", "");
  }

  /**
   * Loads and attaches the programs once (as `run` would, with the features
   * WMSCOPE_DISABLE_FEATURES switches off), then detaches them: the core's row, then one row per
   * optional kernel feature.
   */
  static List<Result> load(Set<KernelFeature> disabled) {
    try {
      Path root = CgroupV2.requireMount();
      try (ConnectionProbe probe = ConnectionProbe.start(new ConnectionProbe.Options(root, 1024, 1 << 16, disabled),
          r -> {})) {
        List<Result> out = new ArrayList<>();
        out.add(new Result("load", Status.OK, "core programs (" + String.join(", ", KernelFeature.CORE_PROGRAMS)
            + ") loaded and attached to " + root + ", then detached", ""));
        probe.features().values().stream().sorted(java.util.Comparator.comparing(FeatureStatus::feature))
            .forEach(f -> out.add(feature(f)));
        out.addAll(healthFeatures(disabled));
        return out;
      }
    } catch (BpfException e) {
      return List.of(new Result("load", Status.FAIL, e.getMessage(), e.hint().isEmpty() ? "see the failures above" : e.hint()));
    } catch (RuntimeException | LinkageError e) {
      return List.of(new Result("load", Status.FAIL, String.valueOf(e.getMessage()), "run with WMSCOPE_DEBUG=1 for details"));
    }
  }

  /** The worker health object's features (a separate object: its refusal costs worker health only). */
  private static List<Result> healthFeatures(Set<KernelFeature> disabled) {
    List<Result> out = new ArrayList<>();
    try (var health = dev.wmscope.loader.WorkerHealthProbe.start(disabled, e -> {}).orElse(null)) {
      if (health == null) {
        KernelFeature.HEALTH.forEach(f -> out.add(feature(FeatureStatus.lost(f, "turned off by "
            + KernelFeature.DISABLE_ENV))));
        return out;
      }
      health.features().values().stream().sorted(java.util.Comparator.comparing(FeatureStatus::feature))
          .forEach(f -> out.add(feature(f)));
    } catch (BpfException e) {
      KernelFeature.HEALTH.forEach(f -> out.add(feature(FeatureStatus.lost(f, "worker health object refused: "
          + e.getMessage()))));
    }
    return out;
  }

  /** One optional feature's row: ok, or degraded/missing with why and what it costs. */
  static Result feature(FeatureStatus f) {
    if (f.ok()) {
      return new Result(f.feature().id(), Status.OK, "in use", "");
    }
    Status s = f.state() == FeatureStatus.State.DEGRADED ? Status.DEGRADED : Status.MISSING;
    return new Result(f.feature().id(), s, f.cause() + ": " + f.feature().consequence(), "");
  }

  static Result agent(Path lockFile) {
    Optional<AgentLock.Holder> h = AgentLock.holder(lockFile);
    return h.map(x -> new Result("agent", Status.INFO, "running: pid " + x.pid()
            + (x.http().isEmpty() || x.http().equals("none") ? "" : ", HTTP " + x.http()) + " (lock " + lockFile + ")",
            ""))
        .orElseGet(() -> new Result("agent", Status.INFO, "none running (lock " + lockFile + " free)", ""));
  }

  /** Whether the agent's HTTP address can be bound (informational: the agent says so at start). */
  static Result http(String host, int port, Optional<AgentLock.Holder> running) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(host, port));
      return new Result("http", Status.OK, host + ":" + port + " is free", "");
    } catch (IOException e) {
      boolean ours = running.isPresent() && running.get().http().endsWith(":" + port);
      return new Result("http", ours ? Status.INFO : Status.WARN, host + ":" + port + " is in use"
          + (ours ? " by the running agent" : ""), ours ? "" : "choose another with --http-address, or --http-address none");
    }
  }
}
