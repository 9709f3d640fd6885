package dev.wmscope.agent.selection;

import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which processes hold a socket, by inode: the join between what the kernel iterator reports
 * (a socket inode) and /proc/PID/fd. Used for connections open before wmscope watched them and
 * for listening sockets (shared by master and workers in Workerman's default layout).
 * One scan reads the fds of the candidate processes once; not thread-safe (poll thread).
 */
public final class InodeOwners {
  private final Path proc;

  public InodeOwners(Path proc) {
    this.proc = proc;
  }

  /** inode -> pids holding it, for the wanted inodes, looking only at the candidate pids. */
  public Map<Long, Set<Long>> resolve(Collection<Long> inodes, Collection<Long> candidates) {
    Map<Long, Set<Long>> out = new HashMap<>();
    if (inodes.isEmpty()) {
      return out;
    }
    Set<Long> wanted = Set.copyOf(inodes);
    for (long pid : candidates) {
      for (long inode : ListeningPorts.socketInodes(proc.resolve(Long.toString(pid)))) {
        if (wanted.contains(inode)) {
          out.computeIfAbsent(inode, k -> new TreeSet<>()).add(pid);
        }
      }
    }
    return out;
  }

  /** Whether a process is still running (its /proc entry exists; a zombie still counts). */
  public boolean running(long pid) {
    return java.nio.file.Files.isDirectory(proc.resolve(Long.toString(pid)));
  }

  /** A process's thread name (comm), empty when it is gone. */
  public String comm(long pid) {
    try {
      return dev.wmscope.agent.discovery.ProcText.clean(
          java.nio.file.Files.readString(proc.resolve(Long.toString(pid)).resolve("comm")).strip(),
          dev.wmscope.agent.discovery.ProcText.NAME_LIMIT);
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
