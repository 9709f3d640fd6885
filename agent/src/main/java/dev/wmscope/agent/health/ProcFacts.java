package dev.wmscope.agent.health;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What /proc says about a worker that the kernel programs do not: its descriptors and their
 * limit, which event loop it runs, its CPU time split, and where a descriptor leads. Every
 * read tolerates a process that exits meanwhile (empty or -1).
 */
final class ProcFacts {
  private final Path proc;

  ProcFacts(Path proc) {
    this.proc = proc;
  }

  /**
   * Open descriptors and, with {@code lookForEpoll}, whether one of them is an epoll instance
   * ({-1, 0} when unreadable). Counting reads the directory only; looking reads each link until
   * the first eventpoll one (a worker with 10,000 connections: 10,000 readlinks), so callers
   * look rarely.
   */
  long[] descriptors(long pid, boolean lookForEpoll) {
    long n = 0;
    long epoll = 0;
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve(pid + "/fd"))) {
      for (Path fd : fds) {
        n++;
        if (lookForEpoll && epoll == 0) {
          try {
            if (Files.readSymbolicLink(fd).toString().equals("anon_inode:[eventpoll]")) {
              epoll = 1;
            }
          } catch (IOException e) {
            // closed meanwhile
          }
        }
      }
    } catch (IOException | SecurityException e) {
      return new long[] {-1, 0};
    }
    return new long[] {n, epoll};
  }

  /** The soft RLIMIT_NOFILE ("Max open files" in /proc/PID/limits); -1 unknown or unlimited. */
  long fdLimit(long pid) {
    try {
      for (String line : Files.readAllLines(proc.resolve(pid + "/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] f = line.substring("Max open files".length()).trim().split("\\s+");
          return f[0].equals("unlimited") ? -1 : Long.parseLong(f[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone or unreadable
    }
    return -1;
  }

  /**
   * The event loop: {@code select} without an epoll descriptor (Workerman's Select loop, Revolt's
   * stream_select driver), else the extension driving epoll when one is mapped (event, ev,
   * swoole, swow, uv), else {@code epoll}.
   */
  String loopKind(long pid, boolean hasEpoll) {
    if (!hasEpoll) {
      return "select";
    }
    try (var lines = Files.lines(proc.resolve(pid + "/maps"))) {
      for (String ext : (Iterable<String>) lines.map(ProcFacts::extensionOf).filter(e -> !e.isEmpty())::iterator) {
        return ext;
      }
    } catch (IOException | RuntimeException e) {
      // gone or unreadable
    }
    return "epoll";
  }

  private static final List<String> EXTENSIONS = List.of("event", "ev", "swoole", "swow", "uv");

  private static String extensionOf(String mapsLine) {
    int slash = mapsLine.lastIndexOf('/');
    if (slash < 0 || !mapsLine.endsWith(".so")) {
      return "";
    }
    String file = mapsLine.substring(slash + 1, mapsLine.length() - 3);
    return EXTENSIONS.contains(file) ? file : "";
  }

  /** User and system CPU time in clock ticks (/proc/PID/stat fields 14, 15); null when gone. */
  long[] cpuTicks(long pid) {
    try {
      String stat = Files.readString(proc.resolve(pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The step of /proc's process start times: clock ticks of USER_HZ, 100 on Linux. */
  static final long START_STEP_NANOS = 1_000_000_000L / 100;

  /**
   * When the process started, on the boot clock in ns (/proc/PID/stat field 22, 10 ms steps):
   * CLOCK_MONOTONIC too on a host that was never suspended; -1 when gone.
   */
  long startNanos(long pid) {
    try {
      String stat = Files.readString(proc.resolve(pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[19]) * START_STEP_NANOS;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A descriptor's target: "socket:[INODE]", a path, or empty when it is closed. */
  Optional<String> descriptorTarget(long pid, long fd) {
    try {
      return Optional.of(Files.readSymbolicLink(proc.resolve(pid + "/fd/" + fd)).toString());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A TCP socket's peer "ADDRESS:PORT" by inode, from the process's network namespace. */
  Optional<String> tcpPeer(long pid, long inode) {
    for (String table : List.of("tcp", "tcp6")) {
      try {
        for (String line : Files.readAllLines(proc.resolve(pid + "/net/" + table))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 9 && f[9].equals(Long.toString(inode))) {
            return Optional.of(endpoint(f[2]));
          }
        }
      } catch (IOException | RuntimeException e) {
        // gone or unreadable
      }
    }
    return Optional.empty();
  }

  /** "0100007F:0CEA" or the 32-hex-digit IPv6 form as /proc/net/tcp prints it -> "127.0.0.1:3306". */
  static String endpoint(String hex) {
    int colon = hex.indexOf(':');
    String addr = hex.substring(0, colon);
    int port = Integer.parseInt(hex.substring(colon + 1), 16);
    byte[] b = new byte[addr.length() / 2];
    // the kernel prints each 32-bit word in host (little-endian) order
    for (int word = 0; word < b.length / 4; word++) {
      for (int i = 0; i < 4; i++) {
        b[word * 4 + i] = (byte) Integer.parseInt(addr.substring(word * 8 + (3 - i) * 2, word * 8 + (3 - i) * 2 + 2), 16);
      }
    }
    try {
      InetAddress a = InetAddress.getByAddress(b);
      String host = a.getHostAddress();
      return (b.length == 16 ? "[" + host + "]" : host) + ":" + port;
    } catch (UnknownHostException e) {
      return hex;
    }
  }

  /** The command line of a process (NULs as spaces), empty when gone. */
  String commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(proc.resolve(pid + "/cmdline"));
      return new String(raw, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ').strip();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
