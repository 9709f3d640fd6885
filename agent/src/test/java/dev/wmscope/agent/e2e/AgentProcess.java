package dev.wmscope.agent.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The packaged agent (target/wmscope.jar) run as a separate process, as an operator runs it.
 * Standard output and error are collected line by line; {@link #close()} always ends it.
 */
final class AgentProcess implements AutoCloseable {
  private final Process process;
  private final List<String> stdout = new CopyOnWriteArrayList<>();
  private final List<String> stderr = new CopyOnWriteArrayList<>();
  private final Path lockFile = Path.of(System.getProperty("java.io.tmpdir"),
      "wmscope-test-" + java.util.UUID.randomUUID() + ".lock");

  AgentProcess(List<String> args, Map<String, String> env) throws IOException {
    this(List.of(), args, env);
  }

  /** With JVM options before {@code -jar} (e.g. the launcher's heap size). */
  AgentProcess(List<String> jvmOptions, List<String> args, Map<String, String> env) throws IOException {
    Path jar = Path.of(System.getProperty("wmscope.agent.jar", "target/wmscope.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("agent jar " + jar + " not built: run mvn package first");
    }
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", jar.toString()));
    cmd.addAll(args);
    if (!args.contains("--http-address") && args.contains("run")) {
      // a free port per agent, never the fixed default: tests and a running agent may coexist
      cmd.addAll(List.of("--http-address", "127.0.0.1:0"));
    }
    if (!args.contains("--lock-file") && args.contains("run")) {
      // its own lock, not the host's: test suites may run side by side on one machine
      cmd.addAll(List.of("--lock-file", lockFile.toString()));
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_"));
    pb.environment().putAll(env);
    process = pb.start();
    pumps.add(pump(process.inputReader(StandardCharsets.UTF_8), stdout));
    pumps.add(pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), stderr));
  }

  private final List<Thread> pumps = new ArrayList<>();

  /** After the process ended: waits (bounded) until its last output lines are collected. */
  private void drain() throws InterruptedException {
    for (Thread t : pumps) {
      t.join(2_000);
    }
  }

  private static Thread pump(BufferedReader reader, List<String> sink) {
    return Thread.ofPlatform().daemon().start(() -> {
      try (reader) {
        for (String line; (line = reader.readLine()) != null; ) {
          sink.add(line);
        }
      } catch (IOException e) {
        // process ended
      }
    });
  }

  List<String> stdout() {
    return stdout;
  }

  List<String> stderr() {
    return stderr;
  }

  /**
   * Standard error without the one WARN line per optional kernel feature this host (or
   * WMSCOPE_DISABLE_FEATURES) leaves out: expected on a degraded kernel, and checked by
   * KernelFeaturesKernelIT; what remains are the warnings a test's scenario explains.
   */
  List<String> stderrBeyondKernelFeatures() {
    return stderr.stream().filter(l -> !l.contains("WARN kernel feature ")).toList();
  }

  long pid() {
    return process.pid();
  }

  /** The lock file this agent was given (its own, unless the test passed --lock-file). */
  Path lockFile() {
    return lockFile;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Waits for the process to end by itself; the exit code, or -1 if it did not end in time. */
  int awaitExit(long timeoutMillis) throws InterruptedException {
    if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
      return -1;
    }
    drain();
    return process.exitValue();
  }

  /** The port of the agent's HTTP server, from its "serving HTTP on host:port" line. */
  int httpPort(long timeoutMillis) throws InterruptedException {
    awaitStderr(l -> l.contains("serving HTTP on "), timeoutMillis);
    String line = stderr.stream().filter(l -> l.contains("serving HTTP on ")).findFirst().orElseThrow();
    // text or --log-format json: the port follows the address's last colon
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("serving HTTP on \\S*:(\\d+)").matcher(line);
    if (!m.find()) {
      throw new AssertionError("no port in: " + line);
    }
    return Integer.parseInt(m.group(1));
  }

  /** Waits until a line of standard error matches, or fails with what the agent printed. */
  void awaitStderr(Predicate<String> line, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      if (stderr.stream().anyMatch(line)) {
        return;
      }
      if (!process.isAlive()) {
        break;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("agent did not print the expected line; alive=" + process.isAlive()
        + "\nstderr:\n" + String.join("\n", stderr));
  }

  /** Sends SIGTERM and returns the exit code, or -1 if it did not exit in time. */
  int terminate(long timeoutMillis) throws InterruptedException {
    // SIGTERM through the handle: Process.destroy() would also close our ends of its pipes,
    // losing what the agent prints while it stops
    process.toHandle().destroy();
    if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
      return -1;
    }
    drain();
    return process.exitValue();
  }

  /** Sends SIGKILL and waits. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
    try {
      Files.deleteIfExists(lockFile);
    } catch (IOException e) {
      // a temporary file; nothing depends on it
    }
  }
}
