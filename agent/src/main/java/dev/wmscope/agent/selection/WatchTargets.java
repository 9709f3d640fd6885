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
 */
public record WatchTargets(Set<Integer> ports, Set<Integer> pids, Map<Long, WorkerIdentity> workers) {
  public WatchTargets {
    ports = Set.copyOf(ports);
    pids = Set.copyOf(pids);
    workers = Map.copyOf(workers);
  }

  public static final WatchTargets NONE = new WatchTargets(Set.of(), Set.of(), Map.of());
}
