package dev.wmscope.agent.selection;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the operator asked wmscope to watch. With nothing given, every Workerman app on the host
 * (found by its process titles), including apps started later.
 *
 * @param ports       local ports: connections accepted on them
 * @param pids        processes: connections they accept (on their listening ports) or initiate
 * @param processName processes whose name (comm) or command line (as ps shows it: arguments
 *                    separated by spaces) matches, like pids
 * @param cgroup      a cgroup v2 directory: everything inside it (as a container would be)
 */
public record Selection(Set<Integer> ports, Set<Integer> pids, Optional<Pattern> processName, Optional<Path> cgroup) {
  public Selection {
    ports = Set.copyOf(ports);
    pids = Set.copyOf(pids);
  }

  /** No explicit selection: discover Workerman apps. */
  public boolean workermanAuto() {
    return ports.isEmpty() && pids.isEmpty() && processName.isEmpty() && cgroup.isEmpty();
  }

  /** Only a cgroup: watch every port and process inside it. */
  public boolean wholeCgroup() {
    return cgroup.isPresent() && ports.isEmpty() && pids.isEmpty() && processName.isEmpty();
  }
}
