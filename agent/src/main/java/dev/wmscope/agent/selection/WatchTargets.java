package dev.wmscope.agent.selection;

import dev.wmscope.otel.WorkerIdentity;
import java.util.Map;
import java.util.Set;

/**
 * What the kernel maps should hold after one discovery pass, and who the known processes are.
 *
 * @param ports   local ports whose accepted connections are tracked (0 = every port)
 * @param pids    processes whose outbound connections are tracked (0 = every process)
 * @param workers Workerman identity of every known worker and master process, by pid
 * @param capturePorts the watched ports whose connections' requests are captured (HTTP and
 *                WebSocket workers)
 */
public record WatchTargets(Set<Integer> ports, Set<Integer> pids, Map<Long, WorkerIdentity> workers,
    Set<Integer> capturePorts) {
  public WatchTargets {
    ports = Set.copyOf(ports);
    pids = Set.copyOf(pids);
    workers = Map.copyOf(workers);
    capturePorts = Set.copyOf(capturePorts);
  }

  /** Targets without request capture. */
  public WatchTargets(Set<Integer> ports, Set<Integer> pids, Map<Long, WorkerIdentity> workers) {
    this(ports, pids, workers, Set.of());
  }

  public static final WatchTargets NONE = new WatchTargets(Set.of(), Set.of(), Map.of());
}
