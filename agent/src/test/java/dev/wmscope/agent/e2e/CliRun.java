package dev.wmscope.agent.e2e;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run of a wmscope command (the packaged jar, as an operator runs it) to its end, with a
 * deadline; and a small HTTP client for an agent's API.
 */
final class CliRun {
  /** What a finished command printed and returned. */
  record Result(int exit, String stdout, String stderr) {
    List<String> lines() {
      return stdout.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  private CliRun() {}

  static Path jar() {
    Path jar = Path.of(System.getProperty("wmscope.agent.jar", "target/wmscope.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("agent jar " + jar + " not built: run mvn package first");
    }
    return jar;
  }

  /** Runs {@code wmscope ARGS} and waits for it to end. */
  static Result wmscope(List<String> args, Map<String, String> env, Duration timeout) throws IOException, InterruptedException {
    return run(List.of(), jar(), args, env, timeout);
  }

  /** Runs {@code PREFIX java -jar JAR ARGS} (a prefix such as setpriv ... changes who runs it). */
  static Result run(List<String> prefix, Path jar, List<String> args, Map<String, String> env, Duration timeout)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_") || k.startsWith("WMSCOPE_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("wmscope " + String.join(" ", args) + " did not finish within " + timeout
          + "\n" + out.getNow("") + "\n" + err.getNow(""));
    }
    return new Result(p.exitValue(), out.join(), err.join());
  }

  private static String read(java.io.InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  /** GET http://127.0.0.1:port/path: the status code and body. */
  static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** GET a JSON document that must answer 200. */
  static JsonObject json(int port, String path) {
    try {
      HttpResponse<String> r = get(port, path);
      if (r.statusCode() != 200) {
        throw new IllegalStateException("GET " + path + ": HTTP " + r.statusCode() + " " + r.body());
      }
      return new JsonObject(r.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
