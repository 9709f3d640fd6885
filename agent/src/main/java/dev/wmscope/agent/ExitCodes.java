package dev.wmscope.agent;

/** Process exit codes, documented in the README. */
public final class ExitCodes {
  private ExitCodes() {}

  /** Success, including a clean stop on SIGTERM or SIGINT. */
  public static final int OK = 0;
  /** An unexpected runtime failure. */
  public static final int FAILURE = 1;
  /** Bad command line or configuration. */
  public static final int USAGE = 2;
  /** This host cannot run wmscope: privileges, BTF, cgroup v2, libbpf or kernel support. */
  public static final int HOST_UNSUPPORTED = 3;
  /** Another agent already runs on this host (its lock file is held). */
  public static final int ALREADY_RUNNING = 4;
  /** {@code wmscope status}/{@code connections}: no agent answered and no kernel sample could be taken. */
  public static final int NO_DATA = 5;
}
