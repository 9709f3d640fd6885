package dev.wmscope.agent.discovery;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs {@code workerman-standin.php} (the Workerman stand-in in main resources) for tests.
 *
 * <p>Each instance has its own working directory with the config, pid file, stats directory
 * and output log, and a unique fake start file ({@code /srv/wmscope-test-<uuid>/start.php}) so
 * its processes can be told from every other process on the host. {@link #close()} always
 * leaves no process behind: SIGTERM to the master, a bounded wait, then SIGKILL to every
 * process that still carries this instance's start file or worker title. Only processes whose
 * command line proves they belong to this instance are ever signalled.
 *
 * <p>Not thread-safe; one test drives one instance.
 */
public final class WorkermanStandin implements AutoCloseable {

    /** Classpath location of the stand-in script. */
    public static final String RESOURCE = "/dev/wmscope/agent/standin/workerman-standin.php";

    private static final Duration POLL = Duration.ofMillis(25);

    private final Path php;
    private final Path script;
    private final Path dir;
    private final String startFile;
    private final JsonObject config;
    private final List<Process> helpers = new ArrayList<>();
    private final Set<Integer> seenPids = new HashSet<>();
    private Process launcher;

    private WorkermanStandin(Path php, Path script, Path dir, String startFile, JsonObject config) {
        this.php = php;
        this.script = script;
        this.dir = dir;
        this.startFile = startFile;
        this.config = config;
    }

    /** The php executable on PATH, if any (found as `wmscope demo` finds it). */
    public static Optional<Path> phpExecutable() {
        return dev.wmscope.agent.demo.StandinApp.php();
    }

    /**
     * The stand-in script as a file: from the test classpath ({@code target/classes}), copied to
     * {@code workDir} when it sits in a jar, or from the module's source tree.
     */
    public static Path script(Path workDir) {
        URL url = WorkermanStandin.class.getResource(RESOURCE);
        try {
            if (url != null && url.getProtocol().equals("file")) {
                return Path.of(url.toURI());
            }
            if (url != null) {
                Path copy = workDir.resolve("workerman-standin.php");
                try (InputStream in = url.openStream()) {
                    Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
                }
                return copy;
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("locate stand-in " + url + ": " + e.getMessage(), e);
        }
        Path source = Path.of("src/main/resources" + RESOURCE);
        if (Files.isRegularFile(source)) {
            return source.toAbsolutePath();
        }
        throw new IllegalStateException("locate stand-in: " + RESOURCE + " is neither on the classpath nor in "
                + source.toAbsolutePath());
    }

    /** A free TCP port on 127.0.0.1 (free when asked; the usual small race applies). */
    public static int freePort() {
        try {
            return dev.wmscope.agent.demo.StandinApp.freePort();
        } catch (IOException e) {
            throw new UncheckedIOException("find a free port: " + e.getMessage(), e);
        }
    }

    /** One worker definition of the stand-in config (see the comment at the top of the script). */
    public static JsonObject worker(String name, String listen, int count, boolean reusePort) {
        return new JsonObject().put("name", name).put("listen", listen).put("count", count)
                .put("reusePort", reusePort);
    }

    /**
     * Prepares an instance in {@code workDir} with the given worker definitions; nothing runs
     * until {@link #start(boolean)}.
     */
    public static WorkermanStandin create(Path workDir, List<JsonObject> workers) {
        return create(workDir, workers, "/srv/wmscope-test-" + UUID.randomUUID() + "/start.php");
    }

    /** As {@link #create(Path, List)}, with the start file the master's title names. */
    public static WorkermanStandin create(Path workDir, List<JsonObject> workers, String startFile) {
        Path php = phpExecutable().orElseThrow(() -> new IllegalStateException("php is not installed"));
        JsonObject config = new JsonObject()
                .put("start_file", startFile)
                .put("pid_file", workDir.resolve("master.pid").toString())
                .put("stats_dir", workDir.resolve("stats").toString())
                .put("stdout_file", workDir.resolve("daemon.log").toString())
                .put("workers", new JsonArray(new ArrayList<>(workers)));
        try {
            Files.writeString(workDir.resolve("config.json"), config.encodePrettily());
        } catch (IOException e) {
            throw new UncheckedIOException("write stand-in config: " + e.getMessage(), e);
        }
        return new WorkermanStandin(php, script(workDir), workDir, startFile, config);
    }

    public String startFile() {
        return startFile;
    }

    public Path statsDir() {
        return dir.resolve("stats");
    }

    public JsonObject config() {
        return config.copy();
    }

    /** The master title the stand-in sets. */
    public String masterTitle() {
        return "WorkerMan: master process  start_file=" + startFile;
    }

    /**
     * Runs {@code start} (with {@code -d}: as a daemon, the launcher exits at once). Returns
     * immediately; use {@link #awaitWorkers}.
     */
    public WorkermanStandin start(boolean daemon) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(php.toString(), script.toString(), "start"));
        if (daemon) {
            cmd.add("-d");
        }
        launcher = processBuilder(cmd).redirectOutput(dir.resolve("start.log").toFile()).start();
        return this;
    }

    /**
     * Runs a command such as {@code status}, {@code reload} or {@code stop} and returns its
     * process without waiting (its title is the master's while it runs). It is destroyed by
     * {@link #close()} if still running.
     */
    public Process command(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(php.toString(), script.toString()));
        cmd.addAll(List.of(args));
        String log = "cmd-" + String.join("-", args).replace("-", "") + "-" + helpers.size() + ".log";
        Process p = processBuilder(cmd).redirectOutput(dir.resolve(log).toFile()).start();
        helpers.add(p);
        return p;
    }

    /** Runs a command to its end, within {@code timeout}. */
    public int run(Duration timeout, String... args) throws IOException, InterruptedException {
        Process p = command(args);
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("stand-in " + String.join(" ", args) + " did not finish in " + timeout);
        }
        return p.exitValue();
    }

    private ProcessBuilder processBuilder(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("WMSCOPE_STANDIN_CONFIG", dir.resolve("config.json").toString());
        env.remove("WMSCOPE_STANDIN_STATS_DIR");
        env.remove("WMSCOPE_STANDIN_PID_FILE");
        env.remove("WMSCOPE_STANDIN_START_FILE");
        return pb;
    }

    /** The master's state as the stand-in last wrote it (stats/master.json), if written yet. */
    public Optional<JsonObject> masterJson() {
        return readJson(statsDir().resolve("master.json"));
    }

    /** A worker's own counters (stats/PID.json), if written yet. */
    public Optional<JsonObject> workerStats(int pid) {
        return readJson(statsDir().resolve(pid + ".json"));
    }

    /** The master pid from master.json (0 if not started). */
    public int masterPid() {
        return masterJson().map(j -> j.getInteger("pid", 0)).orElse(0);
    }

    /** The worker pids master.json lists. */
    public List<Integer> workerPids() {
        List<Integer> pids = new ArrayList<>();
        masterJson().ifPresent(j -> j.getJsonArray("workers").forEach(w -> pids.add(((JsonObject) w).getInteger("pid"))));
        return pids;
    }

    /**
     * Waits until the master runs with exactly {@code count} workers that all listen and have
     * their titles (each has written its stats file), and none of them is in {@code notIn}.
     *
     * @return the worker pids
     */
    public List<Integer> awaitWorkers(int count, Set<Integer> notIn, Duration timeout) throws InterruptedException {
        return await(timeout, "the stand-in to run " + count + " workers (log: " + log() + ")", () -> {
            Optional<JsonObject> m = masterJson();
            if (m.isEmpty() || !"running".equals(m.get().getString("status"))) {
                return null;
            }
            List<Integer> pids = workerPids();
            seenPids.add(m.get().getInteger("pid"));
            seenPids.addAll(pids);
            boolean ready = pids.size() == count
                    && pids.stream().noneMatch(notIn::contains)
                    && pids.stream().allMatch(p -> workerStats(p).map(s -> s.getBoolean("alive")).orElse(false));
            return ready ? pids : null;
        });
    }

    /** Polls {@code probe} until it returns non-null, at most {@code timeout}. */
    public static <T> T await(Duration timeout, String what, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(POLL);
        }
    }

    /** Whether a pid is a running (not zombie) process, per /proc/PID/stat. */
    public static boolean isRunning(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            return ProcScanner.parseStat(stat).map(s -> s.state() != 'Z' && s.state() != 'X').orElse(false);
        } catch (IOException e) {
            return false;
        }
    }

    /** The pids of live processes whose cmdline names this instance (titles or script path). */
    public Set<Integer> ownProcesses() {
        Set<Integer> own = new HashSet<>();
        ProcScanner proc = new ProcScanner();
        try {
            for (int pid : proc.pids()) {
                Optional<ProcEntry> e = proc.process(pid);
                if (e.isPresent() && isOwn(e.get()) && isRunning(pid)) {
                    own.add(pid);
                }
            }
        } catch (IOException e) {
            // fall back to what we saw
            seenPids.stream().filter(WorkermanStandin::isRunning).forEach(own::add);
        }
        return own;
    }

    private boolean isOwn(ProcEntry e) {
        if (e.cmdline().contains(startFile)) {
            return true; // the master, a command helper, or a launcher
        }
        // A worker title does not name the start file: it is ours if we saw its pid and it
        // carries one of our worker titles (our ports are unique to this instance).
        return seenPids.contains(e.pid()) && e.title()
                .filter(t -> t instanceof WorkermanTitle.Worker w && workerTitles().contains(w.name() + " " + w.listen()))
                .isPresent();
    }

    private Set<String> workerTitles() {
        Set<String> titles = new HashSet<>();
        for (Object o : config.getJsonArray("workers")) {
            JsonObject w = (JsonObject) o;
            Object l = w.getValue("listen");
            String listen = l == null || l.toString().isEmpty() || l.equals("none")
                    ? "none" : Character.toLowerCase(l.toString().charAt(0)) + l.toString().substring(1);
            Object n = w.getValue("name");
            titles.add((n == null || n.toString().isEmpty() ? "none" : n) + " " + listen);
        }
        return titles;
    }

    public String log() {
        try {
            Path start = dir.resolve("start.log");
            return Files.exists(start) ? Files.readString(start, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /**
     * Stops everything this instance started: SIGTERM to the master, up to 5 s for all its
     * processes to exit, then SIGKILL to whatever is left, then up to 2 s more.
     */
    @Override
    public void close() throws InterruptedException {
        for (Process h : helpers) {
            h.destroy();
        }
        int master = masterPid();
        Set<Integer> own = ownProcesses();
        own.addAll(descendants(master));
        if (master > 0 && isRunning(master) && own.contains(master)) {
            ProcessHandle.of(master).ifPresent(ProcessHandle::destroy);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline && own.stream().anyMatch(WorkermanStandin::isRunning)) {
            Thread.sleep(POLL);
        }
        for (int pid : own) {
            if (isRunning(pid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        for (Process h : helpers) {
            h.destroyForcibly();
        }
        if (launcher != null) {
            launcher.destroyForcibly();
            launcher.waitFor(2, TimeUnit.SECONDS);
        }
        deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline && own.stream().anyMatch(WorkermanStandin::isRunning)) {
            Thread.sleep(POLL);
        }
    }

    private Set<Integer> descendants(int pid) {
        Set<Integer> out = new HashSet<>();
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> {
                ProcScanner proc = new ProcScanner();
                int child = (int) d.pid();
                if (proc.process(child).filter(e -> e.title().isPresent()).isPresent()) {
                    out.add(child);
                }
            }));
        }
        return out;
    }

    private static Optional<JsonObject> readJson(Path file) {
        try {
            return Files.exists(file) ? Optional.of(new JsonObject(Files.readString(file))) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // not written yet, or replaced while we read
        }
    }
}
