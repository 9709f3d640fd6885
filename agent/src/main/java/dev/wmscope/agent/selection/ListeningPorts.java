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
import java.util.stream.Stream;

/**
 * Which TCP ports a process listens on, from /proc: the listening sockets of its network
 * namespace (/proc/PID/net/tcp and tcp6, state 0A) joined by inode with the sockets among its
 * file descriptors. This is how `--pid` and `--process-name` find what to watch, and it works
 * for a process in a container (its own namespace) as long as /proc is the host's.
 */
public final class ListeningPorts {
  private static final String LISTEN = "0A";

  private final Path proc;

  public ListeningPorts(Path proc) {
    this.proc = proc;
  }

  /** Ports of TCP sockets in LISTEN state that this process holds; empty if it is gone. */
  public Set<Integer> of(long pid) {
    Path dir = proc.resolve(Long.toString(pid));
    Map<Long, Integer> listeners = new HashMap<>();
    for (String table : List.of("tcp", "tcp6")) {
      try {
        listeners.putAll(parseListeners(Files.readAllLines(dir.resolve("net").resolve(table))));
      } catch (IOException e) {
        // no IPv6, or the process exited
      }
    }
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

  /** inode -> local port of every LISTEN socket in a /proc/net/tcp{,6} table. */
  static Map<Long, Integer> parseListeners(List<String> lines) {
    Map<Long, Integer> out = new HashMap<>();
    for (int i = 1; i < lines.size(); i++) { // first line is the header
      String[] f = lines.get(i).trim().split("\\s+");
      if (f.length < 10 || !f[3].equals(LISTEN)) {
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
