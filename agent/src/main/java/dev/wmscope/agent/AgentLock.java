package dev.wmscope.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One agent per host: an exclusive lock on a lock file ({@code /run/wmscope/wmscope.lock} by
 * default) held for the agent's lifetime. Two agents would attach every program twice and
 * export every connection twice, so the second one stops with {@link AlreadyRunning}, naming
 * the first (its pid and HTTP address are written into the file).
 *
 * <p>The kernel releases the lock when the process exits, however it exits (SIGKILL included),
 * so a stale file never blocks a new agent; the file itself stays. {@link #close()} releases
 * the lock and empties the file; idempotent. Not thread-safe.
 */
public final class AgentLock implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AgentLock.class.getName());

  /** The default lock file; the directory is created when missing. */
  public static final Path DEFAULT_PATH = Path.of("/run/wmscope/wmscope.lock");

  /** Another agent holds the lock. */
  public static final class AlreadyRunning extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Holder holder;

    AlreadyRunning(Path path, Holder holder) {
      super("start agent: another wmscope agent is already running on this host (" + holder.describe()
          + "; lock " + path + ")");
      this.holder = holder;
    }

    public Holder holder() {
      return holder;
    }

    /** What to do about it. */
    public String hint() {
      return "stop it first" + (holder.pid() > 0 ? " (kill " + holder.pid() + ", or systemctl stop wmscope)" : "")
          + ", or use it: `wmscope status` reads a running agent; two agents would attach every program and"
          + " export every connection twice. To run a second agent on purpose, give it another --lock-file and"
          + " --http-address";
    }
  }

  /** What the lock file says about the agent holding it. */
  public record Holder(long pid, String http, String started) {
    String describe() {
      StringBuilder s = new StringBuilder(pid > 0 ? "pid " + pid : "pid unknown");
      if (!http.isEmpty()) {
        s.append(", HTTP ").append(http);
      }
      if (!started.isEmpty()) {
        s.append(", started ").append(started);
      }
      return s.toString();
    }
  }

  private final Path path;
  private FileChannel channel;
  private FileLock lock;

  private AgentLock(Path path, FileChannel channel, FileLock lock) {
    this.path = path;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock and writes this agent's pid and HTTP address into the file.
   *
   * @return the lock, or empty when the file cannot be created or locked at all (no permission,
   *     read-only /run): then a second agent cannot be detected, which is logged, not fatal
   * @throws AlreadyRunning when another process holds it
   */
  public static Optional<AgentLock> acquire(Path path, String httpAddress) {
    FileChannel ch;
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException | SecurityException | UnsupportedOperationException e) {
      LOG.log(System.Logger.Level.WARNING, "open lock file {0}: {1}; a second agent on this host will not be"
          + " detected (choose a writable --lock-file, or --lock-file none)", path.toString(), e.toString());
      return Optional.empty();
    }
    FileLock l;
    try {
      l = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null; // this JVM holds it already
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "lock {0}: {1}; a second agent on this host will not be detected",
          path.toString(), e.toString());
      close(ch);
      return Optional.empty();
    }
    if (l == null) {
      Holder holder = read(ch);
      close(ch);
      throw new AlreadyRunning(path, holder);
    }
    AgentLock lock = new AgentLock(path, ch, l);
    lock.write(httpAddress);
    return Optional.of(lock);
  }

  /**
   * The agent holding the lock at {@code path}, if one does (a held lock, not just a file).
   * Used by {@code wmscope status} to find a running agent's HTTP address.
   */
  public static Optional<Holder> holder(Path path) {
    if (!Files.isRegularFile(path)) {
      return Optional.empty();
    }
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      FileLock probe;
      try {
        probe = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        return Optional.of(read(ch)); // held in this JVM
      }
      if (probe != null) {
        probe.release();
        return Optional.empty(); // nobody holds it
      }
      return Optional.of(read(ch));
    } catch (IOException | SecurityException e) {
      // unreadable without privileges: try read-only
      try {
        return Optional.of(parse(Files.readString(path, StandardCharsets.UTF_8))).filter(h -> h.pid() > 0
            && ProcessHandle.of(h.pid()).map(ProcessHandle::isAlive).orElse(false));
      } catch (IOException | RuntimeException e2) {
        return Optional.empty();
      }
    }
  }

  /** Records the HTTP address the server actually bound (port 0 asks the kernel for one). */
  public void update(String httpAddress) {
    if (channel != null) {
      write(httpAddress);
    }
  }

  private void write(String httpAddress) {
    String text = "pid=" + ProcessHandle.current().pid() + "\nhttp=" + httpAddress + "\nstarted=" + Instant.now() + "\n";
    try {
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(false);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "write lock file {0}: {1}", path.toString(), e.toString());
    }
  }

  private static Holder read(FileChannel ch) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(4096);
      int n = ch.read(buf, 0);
      return parse(n <= 0 ? "" : new String(buf.array(), 0, n, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Holder(0, "", "");
    }
  }

  static Holder parse(String text) {
    Map<String, String> kv = new LinkedHashMap<>();
    text.lines().forEach(line -> {
      int eq = line.indexOf('=');
      if (eq > 0) {
        kv.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    });
    long pid;
    try {
      pid = Long.parseLong(kv.getOrDefault("pid", "0"));
    } catch (NumberFormatException e) {
      pid = 0;
    }
    return new Holder(pid, kv.getOrDefault("http", ""), kv.getOrDefault("started", ""));
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() {
    if (channel == null) {
      return;
    }
    try {
      channel.truncate(0);
    } catch (IOException e) {
      // released below anyway
    }
    try {
      if (lock != null) {
        lock.release();
      }
    } catch (IOException e) {
      // the channel's close releases it
    }
    close(channel);
    channel = null;
    lock = null;
  }

  private static void close(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }
}
