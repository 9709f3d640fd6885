package dev.wmscope.agent.demo;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The bundled Workerman stand-in ({@code workerman-standin.php}, see its header) run with
 * php-cli for {@code wmscope demo}: a master and forked workers with Workerman's exact process
 * titles and listener layouts, in a private temporary directory.
 *
 * <p>{@link #close()} stops it like Workerman's own {@code stop} (SIGTERM to the master, which
 * stops its workers), then SIGKILLs any of its processes still running after a bounded wait,
 * and removes the directory. Only processes this instance started are signalled. Not
 * thread-safe.
 */
public final class StandinApp implements AutoCloseable {
  static final String RESOURCE = "/dev/wmscope/agent/standin/workerman-standin.php";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

  /** One worker definition (Workerman's {@code new Worker('text://...')} with count and reusePort). */
  public record WorkerDef(String name, String listen, int count, boolean reusePort) {}

  private final Path dir;
  private final Process master;
  private final String startFile;

  private StandinApp(Path dir, Process master, String startFile) {
    this.dir = dir;
    this.master = master;
    this.startFile = startFile;
  }

  /** php on PATH, if any. */
  public static Optional<Path> php() {
    String path = Objects.requireNonNullElse(System.getenv("PATH"), "/usr/local/bin:/usr/bin:/bin");
    for (String d : path.split(File.pathSeparator)) {
      Path candidate = Path.of(d.isEmpty() ? "." : d, "php");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** A free TCP port on 127.0.0.1. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Starts the app in the foreground (the process is the master) and waits until every worker
   * listens and carries its title.
   */
  public static StandinApp start(Path php, String appName, List<WorkerDef> workers) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("wmscope-demo-");
    Path script = dir.resolve("workerman-standin.php");
    try (InputStream in = StandinApp.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException("the stand-in script " + RESOURCE + " is missing from the jar");
      }
      Files.copy(in, script);
    }
    String startFile = dir.resolve(appName).resolve("start.php").toString();
    JsonArray defs = new JsonArray();
    workers.forEach(w -> defs.add(new JsonObject().put("name", w.name()).put("listen", w.listen())
        .put("count", w.count()).put("reusePort", w.reusePort())));
    JsonObject config = new JsonObject()
        .put("start_file", startFile)
        .put("pid_file", dir.resolve("master.pid").toString())
        .put("stats_dir", dir.resolve("stats").toString())
        .put("stop_timeout", 1)
        .put("workers", defs);
    Files.writeString(dir.resolve("config.json"), config.encodePrettily());
    ProcessBuilder pb = new ProcessBuilder(php.toString(), script.toString(), "start").directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(dir.resolve("app.log").toFile());
    pb.environment().put("WMSCOPE_STANDIN_CONFIG", dir.resolve("config.json").toString());
    Process master = pb.start();
    StandinApp app = new StandinApp(dir, master, startFile);
    int expected = workers.stream().mapToInt(WorkerDef::count).sum();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (app.readyWorkers() < expected) {
      if (!master.isAlive() || System.nanoTime() > deadline) {
        String log = Files.exists(dir.resolve("app.log")) ? Files.readString(dir.resolve("app.log")) : "";
        app.close();
        throw new IOException("start the Workerman stand-in: " + (master.isAlive() ? "workers not ready after "
            + START_TIMEOUT.toSeconds() + " s" : "it exited with " + master.exitValue()) + (log.isBlank() ? "" : ": " + log.strip()));
      }
      Thread.sleep(50);
    }
    return app;
  }

  private int readyWorkers() {
    Optional<JsonObject> m = json(dir.resolve("stats/master.json"));
    if (m.isEmpty() || !"running".equals(m.get().getString("status"))) {
      return 0;
    }
    int ready = 0;
    for (Object w : m.get().getJsonArray("workers", new JsonArray())) {
      if (Files.exists(dir.resolve("stats").resolve(((JsonObject) w).getInteger("pid") + ".json"))) {
        ready++;
      }
    }
    return ready;
  }

  /** The master's pid. */
  public long masterPid() {
    return master.pid();
  }

  public String startFile() {
    return startFile;
  }

  /** The worker pids the master reports. */
  public List<Long> workerPids() {
    List<Long> pids = new ArrayList<>();
    json(dir.resolve("stats/master.json")).ifPresent(m -> m.getJsonArray("workers", new JsonArray())
        .forEach(w -> pids.add(((JsonObject) w).getLong("pid"))));
    return pids;
  }

  /** What a worker counted itself (accepted, active, bytes_in, bytes_out, ...), if written. */
  public Optional<JsonObject> workerStats(long pid) {
    return json(dir.resolve("stats").resolve(pid + ".json"));
  }

  private static boolean isWorkerTitle(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
          java.nio.charset.StandardCharsets.UTF_8).startsWith("WorkerMan: worker process");
    } catch (IOException e) {
      return false; // gone
    }
  }

  private static Optional<JsonObject> json(Path file) {
    try {
      return Files.exists(file) ? Optional.of(new JsonObject(Files.readString(file))) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // being replaced
    }
  }

  @Override
  public void close() throws InterruptedException {
    List<Long> workers = workerPids();
    master.destroy(); // SIGTERM: the master stops its workers
    if (!master.waitFor(5, TimeUnit.SECONDS)) {
      master.destroyForcibly();
      master.waitFor(2, TimeUnit.SECONDS);
    }
    for (long pid : workers) {
      // a worker the master did not stop: only if the pid still carries a Workerman worker title
      if (isWorkerTitle(pid)) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory: the OS cleans it eventually
    }
  }
}
