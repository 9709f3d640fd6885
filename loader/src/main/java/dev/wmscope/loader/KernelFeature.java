package dev.wmscope.loader;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The kernel features wmscope uses beyond its core, each with the programs that provide it, the
 * tracepoints those need, what replaces it when the kernel refuses it, and what is lost then.
 *
 * <p>The core is what no fallback can replace: {@link #CORE_PROGRAMS} (sock_ops tracking every
 * watched connection and the state tracepoint that closes it with exact bytes), the ring buffer
 * and socket storage. Only a refused core stops the agent; a refused feature is switched off
 * before load and the rest runs (see {@link FeatureLoader}).
 *
 * <p>{@link #id()} is the public name: in {@code WMSCOPE_DISABLE_FEATURES}, {@code wmscope
 * check}, {@code /api/agent} and the {@code wmscope.agent.kernel_feature} gauge.
 */
public enum KernelFeature implements FeatureLoader.Feature {
  /** iter/bpf_sk_storage_map over the tracked sockets (refused by some kernel builds). */
  TRACKED_ITER("tracked_iter", List.of("wmscope_iter_tracked"), List.of(), List.of(),
      FeatureStatus.State.DEGRADED,
      "live reads walk every TCP socket of the host (iter/tcp) on every poll: slower with many sockets"),
  /** iter/tcp: listeners' accept queues, the walk that finds listeners and adopts connections. */
  TCP_ITER("tcp_iter", List.of("wmscope_iter_tcp"), List.of(), List.of(),
      FeatureStatus.State.MISSING,
      "no accept-queue readings or listener overflow counts and no adoption; open connections are read"
          + " through tracked_iter alone, or only at their close without it"),
  /** Adoption of connections open before tracking, by the tcp iterator. */
  ADOPTION("adoption", List.of(), List.of(), List.of(TCP_ITER),
      FeatureStatus.State.MISSING,
      "connections open before the agent started (or before their port was watched) are not reported"),
  /** cgroup/getpeername4/6: attribution in accept() when the peer's address is asked for (PHP). */
  ACCEPT_ATTRIBUTION("accept_attribution", List.of("wmscope_accept4", "wmscope_accept6"), List.of(), List.of(),
      FeatureStatus.State.DEGRADED,
      "accepted connections are attributed to their worker at its first receive or at the first live read"
          + " after it accepted them (from /proc), whichever comes first, not at accept"),
  /** tp_btf/sock_recv_length (Linux >= 6.3): attribution at the first receive. */
  RECV_ATTRIBUTION("recv_attribution", List.of("wmscope_tp_recv"), List.of("sock_recv_length"), List.of(),
      FeatureStatus.State.DEGRADED,
      "connections accepted without asking the peer's address are attributed to their worker at its close"
          + " (without accept_attribution too: at the first live read after the worker accepted it, from /proc)"),
  /** tp_btf/tcp_send_reset and tcp_receive_reset: who reset a connection. */
  RESET_MARKS("reset_marks", List.of("wmscope_tp_send_reset", "wmscope_tp_recv_reset"),
      List.of("tcp_send_reset", "tcp_receive_reset"), List.of(),
      FeatureStatus.State.DEGRADED,
      "resets are told from the socket error and the last state alone (the same close cause for resets"
          + " received and aborts by this host); a reset sent on a socket the kernel keeps open is not seen"),
  /** tp_btf/sock_recv_length and sock_send_length copying the first bytes of each read and send. */
  REQUEST_CAPTURE("request_capture", List.of("wmscope_tp_recv_data", "wmscope_tp_send_data"),
      List.of("sock_recv_length", "sock_send_length"), List.of(),
      FeatureStatus.State.MISSING,
      "no HTTP request spans and metrics, no WebSocket message metrics; connections are still tracked with"
          + " exact bytes"),
  /** Worker health object: tp_btf/sched_switch timing each watched worker's event loop. */
  LOOP_HEALTH("loop_health", List.of("wmscope_tp_sched_switch"), List.of("sched_switch"), List.of(),
      FeatureStatus.State.MISSING,
      "no event-loop utilization, busy stretches or blocked-worker reports; worker exits are still reported"),
  /** Worker health object: tp_btf/signal_generate, sched_process_exit and sched_process_fork: how watched processes end and start. */
  WORKER_EXITS("worker_exits", List.of("wmscope_tp_signal", "wmscope_tp_task_exit", "wmscope_tp_fork"),
      List.of("signal_generate", "sched_process_exit", "sched_process_fork"), List.of(),
      FeatureStatus.State.DEGRADED,
      "a worker's exit is seen when it is gone from /proc, without its exit status or who signalled it"),
  /** Worker health object: tp_btf/mark_victim, the OOM killer's choices. */
  OOM_MARKS("oom_marks", List.of("wmscope_tp_oom_victim"), List.of("mark_victim"), List.of(WORKER_EXITS),
      FeatureStatus.State.DEGRADED,
      "a worker the OOM killer ends is reported as killed by SIGKILL from the kernel, not as an OOM kill");

  /** The features of the worker health object (WorkerHealthProbe); the others are ConnectionProbe's. */
  public static final Set<KernelFeature> HEALTH = java.util.Collections.unmodifiableSet(
      EnumSet.of(LOOP_HEALTH, WORKER_EXITS, OOM_MARKS));

  /** The features of the connection object (ConnectionProbe), in declaration order. */
  public static List<KernelFeature> connectionFeatures() {
    return Stream.of(values()).filter(f -> !HEALTH.contains(f)).toList();
  }

  /** The programs no fallback replaces: tracking (sock_ops) and the close record (state tracepoint). */
  public static final List<String> CORE_PROGRAMS = List.of("wmscope_sockops", "wmscope_tp_set_state");
  /** Tracepoints of the core programs. */
  public static final List<String> CORE_TRACEPOINTS = List.of("inet_sock_set_state");
  /** Names features to switch off as if the kernel had refused them, comma-separated. */
  public static final String DISABLE_ENV = "WMSCOPE_DISABLE_FEATURES";

  private final String id;
  private final List<String> programs;
  private final List<String> tracepoints;
  private final List<KernelFeature> requires;
  private final FeatureStatus.State whenLost;
  private final String consequence;

  KernelFeature(String id, List<String> programs, List<String> tracepoints, List<KernelFeature> requires,
      FeatureStatus.State whenLost, String consequence) {
    this.id = id;
    this.programs = programs;
    this.tracepoints = tracepoints;
    this.requires = requires;
    this.whenLost = whenLost;
    this.consequence = consequence;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public List<String> programs() {
    return programs;
  }

  @Override
  public List<String> tracepoints() {
    return tracepoints;
  }

  @Override
  public List<KernelFeature> requires() {
    return requires;
  }

  /** DEGRADED when a fallback keeps the function (slower or later), MISSING when it is gone. */
  public FeatureStatus.State whenLost() {
    return whenLost;
  }

  /** What happens without it: the fallback, and its cost where there is one. */
  public String consequence() {
    return consequence;
  }

  /**
   * The features named in a comma-separated list such as {@code "tracked_iter,recv_attribution"}
   * (blank: none).
   *
   * @throws IllegalArgumentException naming an unknown feature and the known ones
   */
  public static Set<KernelFeature> parseList(String list) {
    Set<KernelFeature> out = EnumSet.noneOf(KernelFeature.class);
    if (list == null || list.isBlank()) {
      return out;
    }
    for (String raw : list.split(",")) {
      String name = raw.strip().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      out.add(Stream.of(values()).filter(f -> f.id.equals(name)).findFirst().orElseThrow(() ->
          new IllegalArgumentException("unknown kernel feature '" + raw.strip() + "' (known: " + known() + ")")));
    }
    return out;
  }

  /** The features {@value #DISABLE_ENV} switches off in this process's environment. */
  public static Set<KernelFeature> disabledByEnvironment() {
    return parseList(System.getenv(DISABLE_ENV));
  }

  /** Every feature id, comma-separated. */
  public static String known() {
    return Stream.of(values()).map(KernelFeature::id).collect(Collectors.joining(", "));
  }
}
