package dev.wmscope.agent.e2e;

import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Zipkin server (io.zipkin:zipkin-server exec jar, copied into target/test-servers by
 * the build) as a child process on the test JVM's java, bound to a free loopback port, with
 * in-memory storage and its temporary files under the test's directory. {@link #close()} kills
 * it and waits.
 */
final class ZipkinServer implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  static Path jar() {
    Path jar = Path.of(System.getProperty("wmscope.zipkin.jar", "target/test-servers/zipkin-server.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("Zipkin server jar " + jar + " missing: run the build (mvn verify copies it)");
    }
    return jar;
  }

  ZipkinServer(Path dir) throws IOException, InterruptedException {
    port = dev.wmscope.agent.discovery.WorkermanStandin.freePort();
    log = dir.resolve("zipkin.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // its own temporary directory, inside the test's: the server unpacks a native library
    // (brotli4j, ~1 MB) into java.io.tmpdir and a killed JVM never deletes it
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    process = new ProcessBuilder(java, "-Xmx256m", "-Djava.io.tmpdir=" + tmp, "-jar", jar().toString(),
        "--armeria.ports[0].ip=127.0.0.1", "--armeria.ports[0].port=" + port, "--armeria.ports[0].protocols[0]=http")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Await.until(Duration.ofSeconds(60), "zipkin ready on port " + port, () -> {
      if (!process.isAlive()) {
        throw new AssertionError("zipkin exited: " + logText());
      }
      return get("/health").statusCode();
    }, 200);
  }

  /** What OTEL_EXPORTER_ZIPKIN_ENDPOINT must be set to. */
  String spansEndpoint() {
    return "http://127.0.0.1:" + port + "/api/v2/spans";
  }

  /** {@code /api/v2/traces} for a service: a list of traces, each a list of spans. */
  JsonArray traces(String serviceName) {
    return new JsonArray(get("/api/v2/traces?limit=1000&lookback=3600000&serviceName=" + serviceName).body());
  }

  private HttpResponse<String> get(String pathAndQuery) {
    return Http.get(URI.create("http://127.0.0.1:" + port + pathAndQuery));
  }

  String logText() {
    try {
      return String.join("\n", List.of(Files.readString(log).split("\n")).reversed().stream().limit(40).toList().reversed());
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(15, TimeUnit.SECONDS);
  }
}
