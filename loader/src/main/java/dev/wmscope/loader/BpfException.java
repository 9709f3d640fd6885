package dev.wmscope.loader;

import java.util.List;
import java.util.Map;

/**
 * A libbpf or kernel call failed. Carries the errno, its symbolic name, the libbpf log lines
 * printed while the call ran (the verifier output for a failed load), and a hint for the
 * common causes. {@link #getMessage()} reads "verb object: cause" and stays short; the hint and
 * log are separate so a CLI can show them without a stack trace.
 */
public class BpfException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(3, "ESRCH"), Map.entry(4, "EINTR"),
      Map.entry(5, "EIO"), Map.entry(7, "E2BIG"), Map.entry(9, "EBADF"), Map.entry(11, "EAGAIN"),
      Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(14, "EFAULT"), Map.entry(16, "EBUSY"),
      Map.entry(17, "EEXIST"), Map.entry(19, "ENODEV"), Map.entry(20, "ENOTDIR"), Map.entry(22, "EINVAL"),
      Map.entry(24, "EMFILE"), Map.entry(28, "ENOSPC"), Map.entry(34, "ERANGE"), Map.entry(38, "ENOSYS"),
      Map.entry(95, "EOPNOTSUPP"), Map.entry(524, "ENOTSUPP"));

  private final String operation;
  private final int errno;
  private final String hint;
  private final List<String> log;

  public BpfException(String operation, int errno, String cause, String hint, List<String> log, Throwable t) {
    super(operation + ": " + cause, t);
    this.operation = operation;
    this.errno = errno;
    this.hint = hint;
    this.log = List.copyOf(log);
  }

  /** Builds the exception for a failed call from its errno, with the hint this host's facts call for. */
  public static BpfException fromErrno(String operation, int errno, String description, List<String> log) {
    String name = errnoName(errno);
    String cause = name + " (" + description + ")";
    return new BpfException(operation, errno, cause, hintFor(errno, HostFacts.current()), log, null);
  }

  public static String errnoName(int errno) {
    return NAMES.getOrDefault(errno, "errno " + errno);
  }

  /**
   * What the hints depend on, read from the host, never from libbpf's log (which names the BTF
   * path on every load, present or not).
   *
   * @param btf        /sys/kernel/btf/vmlinux is readable
   * @param privileged root, or CAP_BPF with CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set
   */
  record HostFacts(boolean btf, boolean privileged) {
    static HostFacts current() {
      return new HostFacts(java.nio.file.Files.isReadable(java.nio.file.Path.of("/sys/kernel/btf/vmlinux")),
          BpfSystem.privileged());
    }
  }

  static String hintFor(int errno, HostFacts host) {
    if (!host.btf() && (errno == 2 || errno == 22 || errno == 95 || errno == 524 || errno == 3)) {
      return "this kernel exposes no BTF at /sys/kernel/btf/vmlinux; wmscope needs a kernel built with"
          + " CONFIG_DEBUG_INFO_BTF=y (Linux >= 5.12; most distribution kernels have it)";
    }
    return switch (errno) {
      case 1, 13 -> host.privileged() ? policyHint(errno) : PRIVILEGES_HINT;
      case 12 -> "the kernel refused memory for maps: lower the map sizes, or raise the memlock limit"
          + " (ulimit -l unlimited) on kernels before 5.11";
      case 9, 20 -> "the path is not a cgroup v2 directory: check /proc/mounts for a cgroup2 mount";
      case 95, 524, 22 -> "this kernel lacks a feature wmscope needs (sock_ops links, ring buffers,"
          + " tp_btf: Linux >= 5.12 with BTF); see `wmscope check`";
      case 7 -> "the verifier rejected the program as too large for this kernel";
      default -> "";
    };
  }

  private static final String PRIVILEGES_HINT = "run as root, or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and"
      + " CAP_SYS_PTRACE (CAP_SYS_ADMIN on kernels before 5.8); in a container use --privileged or"
      + " --cap-add BPF,PERFMON,NET_ADMIN,SYS_PTRACE --security-opt seccomp=unconfined"
      + " (on kernels before 5.11 also raise the memlock limit: ulimit -l unlimited)";

  /** EPERM/EACCES although this process holds the BPF capabilities: the kernel said no, not a lack of rights. */
  private static String policyHint(int errno) {
    return errno == 1
        ? "this process has the BPF capabilities, so the kernel's policy refuses this program type (lockdown,"
            + " a hardened or distribution build, a seccomp or LSM policy); `wmscope check` lists what runs without it"
        : "the verifier rejected the program on this kernel (WMSCOPE_DEBUG=1 shows its log); `wmscope check`"
            + " lists what runs without it";
  }

  public String operation() {
    return operation;
  }

  public int errno() {
    return errno;
  }

  /** What to do about it, or empty. */
  public String hint() {
    return hint;
  }

  /** libbpf log lines printed during the failed call (verifier output on load failures). */
  public List<String> log() {
    return log;
  }
}
