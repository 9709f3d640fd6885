package dev.wmscope.agent.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged distribution (target/wmscope-VERSION.tar.gz), unpacked and run as an operator
 * would: its layout, the launcher finding a Java 25 runtime even when the default `java` is
 * older, `--version`, and the container health probe. Needs no privileges.
 */
class DistributionIT {
  @TempDir static Path unpacked;
  static Path home;

  @BeforeAll
  static void unpack() throws Exception {
    Path tar = Path.of(System.getProperty("wmscope.dist.tar", "target/wmscope-dev.tar.gz"));
    assertThat(tar).as("the distribution: run mvn package first").isRegularFile();
    Result r = run(List.of("tar", "-xzf", tar.toAbsolutePath().toString(), "-C", unpacked.toString()), Map.of());
    assertThat(r.code()).as(r.out()).isZero();
    try (var dirs = Files.list(unpacked)) {
      List<Path> top = dirs.toList();
      assertThat(top).hasSize(1);
      home = top.getFirst();
    }
    String name = tar.getFileName().toString();
    assertThat(home.getFileName().toString()).isEqualTo(name.substring(0, name.length() - ".tar.gz".length()));
  }

  record Result(int code, String out) {}

  static Result run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", cmd).isTrue();
    return new Result(p.exitValue(), out);
  }

  @Test
  void layout() throws IOException {
    for (String exe : List.of("bin/wmscope", "bin/wmscope-healthz")) {
      assertThat(Files.getPosixFilePermissions(home.resolve(exe))).as(exe).contains(PosixFilePermission.OWNER_EXECUTE,
          PosixFilePermission.OTHERS_EXECUTE);
    }
    assertThat(home.resolve("lib/wmscope.jar")).isRegularFile();
    assertThat(home.resolve("config/wmscope.env")).content().contains("WMSCOPE_ARGS=", "OTEL_EXPORTER_OTLP_ENDPOINT");
    assertThat(home.resolve("systemd/wmscope.service")).content().contains("ExecStart=/opt/wmscope/bin/wmscope run");
    assertThat(home.resolve("licenses/THIRD-PARTY.txt")).content().contains("io.opentelemetry:opentelemetry-sdk",
        "io.vertx:vertx-core", "info.picocli:picocli");
    assertThat(home.resolve("README.md")).isRegularFile();
  }

  @Test
  void launcherRunsTheAgentWithTheJavaItIsGiven() throws Exception {
    String javaHome = System.getProperty("java.home");
    Result r = run(List.of(home.resolve("bin/wmscope").toString(), "--version"), Map.of("JAVA_HOME", javaHome));
    assertThat(r.code()).as(r.out()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.getFirst()).matches("wmscope \\S+ \\(commit ([0-9a-f]{7,}|unknown).*\\)");
    assertThat(lines).anyMatch(l -> l.startsWith("libbpf"));
    assertThat(lines).anyMatch(l -> l.startsWith("kernel Linux " + System.getProperty("os.version")));
    assertThat(lines).anyMatch(l -> l.startsWith("Java " + Runtime.version()));
  }

  @Test
  void theJvmsOwnOutputGoesToStderrAndAnOutOfMemoryErrorKillsTheJvm() throws Exception {
    // stdout is the data stream (--format json): the VM's output (a SIGQUIT thread dump, an
    // OutOfMemoryError's last words, here its flag table) must never land there; and an
    // OutOfMemoryError must not exit 3, the code the systemd unit does not restart
    ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/wmscope").toString(), "--version");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("WMSCOPE_JAVA_OPTS", "-XX:+PrintFlagsFinal");
    Process p = pb.start();
    p.getOutputStream().close();
    var err = new java.util.concurrent.CompletableFuture<String>();
    Thread.ofPlatform().start(() -> {
      try {
        err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        err.completeExceptionally(e);
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(out).startsWith("wmscope ").doesNotContain("DisplayVMOutputToStderr");
    String flags = err.get(10, TimeUnit.SECONDS);
    assertThat(flags).containsPattern("bool DisplayVMOutputToStderr\\s+= true")
        .containsPattern("ccstrlist OnOutOfMemoryError\\s+= kill -9 %p")
        .containsPattern("bool ExitOnOutOfMemoryError\\s+= true");
  }

  @Test
  void launcherSkipsAnOlderJavaAndFindsJava25ByItself(@TempDir Path bin) throws Exception {
    // The usual trap on Debian: JAVA_HOME and `java` on PATH are an older JDK.
    Path old = null;
    try (var jvms = Files.list(Path.of("/usr/lib/jvm"))) {
      for (Path jvm : jvms.toList()) {
        Result v = run(List.of(jvm.resolve("bin/java").toString(), "-version"), Map.of());
        if (v.code() == 0 && v.out().matches("(?s).*version \"(1[0-9]|2[0-4])[.\"].*")) {
          old = jvm;
        }
      }
    } catch (IOException e) {
      // no /usr/lib/jvm
    }
    String self = Path.of(System.getProperty("java.home")).toRealPath().toString();
    assumeTrue(old != null, "no Java older than 25 under /usr/lib/jvm to trip the launcher");
    assumeTrue(self.startsWith("/usr/lib/jvm/") || self.equals("/opt/java/openjdk"),
        "this JDK 25 (" + self + ") is not where the launcher looks by itself");
    Files.createSymbolicLink(bin.resolve("java"), old.resolve("bin/java"));
    Result r = run(List.of(home.resolve("bin/wmscope").toString(), "--version"),
        Map.of("JAVA_HOME", old.toString(), "PATH", bin + ":/usr/bin:/bin"));
    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.out()).contains("Java 25");
  }

  @Test
  void launcherFollowsASymlinkToItself(@TempDir Path bin) throws Exception {
    Path link = Files.createSymbolicLink(bin.resolve("wmscope"), home.resolve("bin/wmscope"));
    Result r = run(List.of(link.toString(), "--help"), Map.of("JAVA_HOME", System.getProperty("java.home")));
    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.out()).contains("Usage: wmscope");
  }

  @Test
  void healthProbeAsksHealthzOnTheGivenAddress() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/healthz", ex -> {
      ex.sendResponseHeaders(200, 2);
      ex.getResponseBody().write("ok".getBytes(StandardCharsets.US_ASCII));
      ex.close();
    });
    server.createContext("/sick", ex -> {
      ex.sendResponseHeaders(503, -1);
      ex.close();
    });
    server.start();
    try {
      String probe = home.resolve("bin/wmscope-healthz").toString();
      int port = server.getAddress().getPort();
      assertThat(run(List.of(probe, "127.0.0.1:" + port), Map.of()).code()).isZero();
      assertThat(run(List.of(probe), Map.of("WMSCOPE_HTTP_ADDRESS", "0.0.0.0:" + port)).code()).as("wildcard -> loopback").isZero();
      Result sick = run(List.of(probe, "127.0.0.1:" + port, "/sick"), Map.of());
      assertThat(sick.code()).isEqualTo(1);
      assertThat(sick.out()).contains("503");
    } finally {
      server.stop(0);
    }
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    Result refused = run(List.of(home.resolve("bin/wmscope-healthz").toString(), "127.0.0.1:" + closed), Map.of());
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.out()).contains("cannot connect");
  }

  @Test
  void scriptsAreValidBash() throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", "-n"));
    for (String s : List.of("bin/wmscope", "bin/wmscope-healthz")) {
      List<String> c = new ArrayList<>(cmd);
      c.add(home.resolve(s).toString());
      Result r = run(c, Map.of());
      assertThat(r.code()).as(s + ": " + r.out()).isZero();
    }
  }
}
