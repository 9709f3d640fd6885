package dev.wmscope.agent.e2e;

import dev.wmscope.agent.discovery.WorkermanStandin;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A plain (not Workerman) PHP TCP server for selection tests: one process, one connection at a
 * time, one line each. {@code connect HOST:PORT} makes it open a client connection there, send
 * {@code ping}, and answer {@code connected <reply>}; any other line is echoed. It exits by
 * itself after {@link #LIFETIME_SECONDS} so a crashed test leaves nothing behind, and
 * {@link #close()} kills it and waits. Not thread-safe.
 */
final class PhpLineServer implements AutoCloseable {
  static final int LIFETIME_SECONDS = 180;

  private static final String SCRIPT = """
      <?php
      // php line-server.php PORT LIFETIME [TAG]: see PhpLineServer.java
      $port = (int)$argv[1];
      $server = stream_socket_server("tcp://127.0.0.1:$port", $errno, $errstr);
      if ($server === false) {
          fwrite(STDERR, "listen on 127.0.0.1:$port: $errstr\\n");
          exit(1);
      }
      echo "listening " . getmypid() . "\\n";
      $deadline = time() + (int)$argv[2];
      while (time() < $deadline) {
          $r = [$server]; $w = null; $e = null;
          if (@stream_select($r, $w, $e, 1) < 1) {
              continue;
          }
          $c = @stream_socket_accept($server, 1);
          if ($c === false) {
              continue;
          }
          stream_set_timeout($c, 5);
          $line = fgets($c);
          if ($line !== false) {
              $line = rtrim($line, "\\r\\n");
              if (str_starts_with($line, 'connect ')) {
                  $out = @stream_socket_client('tcp://' . substr($line, 8), $errno, $errstr, 5);
                  if ($out === false) {
                      fwrite($c, "error $errstr\\n");
                  } else {
                      stream_set_timeout($out, 5);
                      fwrite($out, "ping\\n");
                      $reply = fgets($out);
                      fclose($out);
                      fwrite($c, 'connected ' . rtrim((string)$reply, "\\r\\n") . "\\n");
                  }
              } else {
                  fwrite($c, $line . "\\n");
              }
          }
          fclose($c);
      }
      """;

  private final Process process;
  private final int port;
  private final long pid;

  private PhpLineServer(Process process, int port, long pid) {
    this.process = process;
    this.port = port;
    this.pid = pid;
  }

  /** Starts {@code php line-server.php PORT LIFETIME TAG} on a free port; returns once it listens. */
  static PhpLineServer start(Path dir, String tag) throws IOException, InterruptedException {
    return start(dir, tag, List.of());
  }

  /**
   * Like {@link #start(Path, String)}, run through {@code wrapper}, a command prefix that ends
   * by exec'ing its arguments ({@code sh -c '... && exec "$@"' sh}, e.g. to join a cgroup
   * first), so the server keeps the wrapper's pid.
   */
  static PhpLineServer start(Path dir, String tag, List<String> wrapper) throws IOException, InterruptedException {
    Path script = dir.resolve("line-server.php");
    if (!Files.exists(script)) {
      Files.writeString(script, SCRIPT);
    }
    String php = WorkermanStandin.phpExecutable().orElseThrow(() -> new IllegalStateException("php is not installed"))
        .toString();
    int port = WorkermanStandin.freePort();
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.addAll(List.of(php, script.toString(), Integer.toString(port), Integer.toString(LIFETIME_SECONDS), tag));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    // the first line says it listens; read it on another thread so a silent failure is bounded
    var first = new java.util.concurrent.CompletableFuture<String>();
    Thread.ofPlatform().daemon().start(() -> {
      try {
        first.complete(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine());
      } catch (IOException e) {
        first.completeExceptionally(e);
      }
    });
    String line;
    try {
      line = first.get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      line = null;
    }
    if (line == null || !line.equals("listening " + p.pid())) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
      throw new IllegalStateException("start " + cmd + ": printed " + line + ", alive=" + p.isAlive());
    }
    return new PhpLineServer(p, port, p.pid());
  }

  int port() {
    return port;
  }

  long pid() {
    return pid;
  }

  /** One connection from this JVM: sends a line, returns the reply line. */
  String request(String line) throws IOException {
    return request(port, line);
  }

  /** One connection from this JVM to any loopback port: sends a line, returns the reply line. */
  static String request(int port, String line) throws IOException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(10_000);
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      OutputStream out = s.getOutputStream();
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("php server " + pid + " did not exit after SIGKILL");
    }
  }
}
