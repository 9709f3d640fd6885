package dev.wmscope.agent.selection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Which TCP ports a process listens on: the listening sockets of its network namespace (from
 * sock_diag when that is the agent's own, else /proc/PID/net/tcp and tcp6, state 0A) joined by
 * inode with the sockets among its file descriptors. This is how `--pid`, `--process-name` and
 * Workerman discovery find what to watch, and it works for a process in a container (its own
 * namespace) as long as /proc is the host's.
 */
public final class ListeningPorts {
  private static final String LISTEN = "0A";

  private final Path proc;
  /**
   * The listener table of each network namespace read in the current pass, by the namespace's
   * link ("net:[4026531840]"). Reading /proc/PID/net/tcp walks the kernel's whole established
   * hash (262,144 buckets on a 24 GiB host: 3.4 ms per read even when idle) and prints every
   * connection: read per worker, every pass, it cost 2% of a core for three workers and would
   * cost a fifth of one for webman's usual 32. The workers of an app share a namespace.
   */
  private final Map<String, Map<Long, Integer>> tables = new ConcurrentHashMap<>();

  /** The agent's own network namespace, whose listeners sock_diag gives cheaply (null: unknown). */
  private final String ownNetns;
  private volatile boolean sockDiag = true;

  public ListeningPorts(Path proc) {
    this.proc = proc;
    this.ownNetns = netnsOf(proc.resolve("self"));
  }

  private static String netnsOf(Path pidDir) {
    try {
      return Files.readSymbolicLink(pidDir.resolve("ns").resolve("net")).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return null; // gone, or not ours to read
    }
  }

  /** Starts a discovery pass: listener tables are read again, once per network namespace. */
  public void newPass() {
    tables.clear();
  }

  /**
   * Ports of TCP sockets in LISTEN state that this process holds; empty if it is gone. The
   * table of its network namespace is the one read earlier in this pass, if any (see
   * {@link #newPass}).
   */
  public Set<Integer> of(long pid) {
    Path dir = proc.resolve(Long.toString(pid));
    Map<Long, Integer> listeners = listenersSeenBy(dir);
    Set<Integer> ports = new TreeSet<>();
    if (listeners.isEmpty()) {
      return ports;
    }
    for (long inode : socketInodes(dir)) {
      Integer port = listeners.get(inode);
      if (port != null) {
        ports.add(port);
      }
    }
    return ports;
  }

  /** The LISTEN sockets of the process's network namespace, read once per pass per namespace. */
  private Map<Long, Integer> listenersSeenBy(Path dir) {
    String netns = netnsOf(dir); // null: its tables are read without being shared
    if (netns != null) {
      Map<Long, Integer> seen = tables.get(netns);
      if (seen != null) {
        return seen;
      }
    }
    Map<Long, Integer> listeners = new HashMap<>();
    if (netns != null && netns.equals(ownNetns) && sockDiag) {
      try {
        listeners = SockDiag.listeners();
        tables.put(netns, listeners);
        return listeners;
      } catch (IOException | RuntimeException e) {
        sockDiag = false; // not on this kernel: /proc from now on
        System.getLogger(ListeningPorts.class.getName()).log(System.Logger.Level.INFO,
            "listening sockets read from /proc/PID/net/tcp from now on: " + e.getMessage());
      }
    }
    for (String table : List.of("tcp", "tcp6")) {
      try {
        listeners.putAll(parseListeners(Files.readAllLines(dir.resolve("net").resolve(table))));
      } catch (IOException e) {
        // no IPv6, or the process exited
      }
    }
    if (netns != null && !listeners.isEmpty()) { // an empty read may be a process that just exited
      tables.put(netns, listeners);
    }
    return listeners;
  }

  /** inode -> local port of every LISTEN socket in a /proc/net/tcp{,6} table. */
  static Map<Long, Integer> parseListeners(List<String> lines) {
    Map<Long, Integer> out = new HashMap<>();
    for (int i = 1; i < lines.size(); i++) { // first line is the header
      String line = lines.get(i);
      // "sl local rem st ...": the state is the fourth field; only LISTEN rows are split
      int st = field(line, 3);
      if (st < 0 || !line.startsWith(LISTEN, st) || (st + 2 < line.length() && line.charAt(st + 2) != ' ')) {
        continue;
      }
      String[] f = line.trim().split("\\s+");
      if (f.length < 10) {
        continue;
      }
      String local = f[1];
      int port = Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16);
      long inode = Long.parseLong(f[9]);
      if (inode != 0) {
        out.put(inode, port);
      }
    }
    return out;
  }

  /** Where the space-separated field {@code n} (from 0) of a line starts, or -1. */
  private static int field(String line, int n) {
    int i = 0;
    int len = line.length();
    for (int k = 0; ; k++) {
      while (i < len && line.charAt(i) == ' ') {
        i++;
      }
      if (i == len) {
        return -1;
      }
      if (k == n) {
        return i;
      }
      while (i < len && line.charAt(i) != ' ') {
        i++;
      }
    }
  }

  /** Inodes of the sockets among a process's file descriptors ("socket:[12345]"). */
  static Set<Long> socketInodes(Path pidDir) {
    Set<Long> out = new HashSet<>();
    try (Stream<Path> fds = Files.list(pidDir.resolve("fd"))) {
      fds.forEach(fd -> {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            out.add(Long.parseLong(target.substring(8, target.length() - 1)));
          }
        } catch (IOException | NumberFormatException e) {
          // closed meanwhile
        }
      });
    } catch (IOException e) {
      // gone or not ours to read
    }
    return out;
  }
}
