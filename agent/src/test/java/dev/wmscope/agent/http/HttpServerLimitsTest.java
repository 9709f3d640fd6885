package dev.wmscope.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP server against what any local user can send: idle and slow connections, floods of
 * bad requests, foreign Host headers, missing tokens. Real sockets on loopback, the real server.
 */
class HttpServerLimitsTest {
  private static final InetAddress LO = InetAddress.getLoopbackAddress();
  private Vertx vertx;
  private HttpServerVerticle server;
  private int port;
  private final List<String> logged = new CopyOnWriteArrayList<>();
  private final Logger guardLog = Logger.getLogger(HttpGuard.class.getName());
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      logged.add(r.getLevel() + " " + r.getMessage());
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  private void start(Optional<String> token, HttpServerVerticle.Limits limits) throws Exception {
    start("127.0.0.1", token, limits);
  }

  private void start(String host, Optional<String> token, HttpServerVerticle.Limits limits) throws Exception {
    HttpRoutes ok = router -> HttpRoutes.read(router, "/api/agent").handler(ctx -> ctx.response().end("{\"ok\":true}"));
    HttpAddress address = new HttpAddress(host, 0);
    vertx = HttpServerVerticle.vertxFor(address);
    server = new HttpServerVerticle(address, List.of(ok), token, limits);
    vertx.deployVerticle(server).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = server.actualPort();
    guardLog.addHandler(capture);
  }

  @AfterEach
  void stop() throws Exception {
    guardLog.removeHandler(capture);
    if (vertx != null) vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Sends raw request text on a new connection and returns everything the server answered. */
  private String exchange(String request) throws IOException {
    try (Socket s = new Socket(LO, port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.shutdownOutput();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  private static String body(String response) {
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  @Test
  void aThousandRequestsWithoutHostAreAnsweredCountedAndLoggedOnce() throws Exception {
    start(Optional.empty(), HttpServerVerticle.Limits.DEFAULT);
    for (int i = 0; i < 1000; i++) {
      String r = exchange("GET /api/agent HTTP/1.1\r\n\r\n");
      assertThat(r).startsWith("HTTP/1.1 400");
      if (i == 0) {
        assertThat(new JsonObject(body(r)).getString("error")).isEqualTo("missing Host header");
      }
    }
    assertThat(server.connectionStats().requestsRefused()).isEqualTo(1000);
    assertThat(logged).as("one line for the first, then at most one a minute").hasSize(1);
    assertThat(logged.getFirst()).startsWith("WARNING refused 1 HTTP request (latest: 400 missing Host header");
  }

  @Test
  void onLoopbackOnlyLoopbackHostsAreAnsweredAgainstDnsRebinding() throws Exception {
    start(Optional.empty(), HttpServerVerticle.Limits.DEFAULT);
    assertThat(exchange("GET /api/agent HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n")).startsWith("HTTP/1.1 200");
    assertThat(exchange("GET /api/agent HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n")).startsWith("HTTP/1.1 200");
    assertThat(exchange("GET /api/agent HTTP/1.1\r\nHost: [::1]:" + port + "\r\n\r\n")).startsWith("HTTP/1.1 200");
    String foreign = exchange("GET /api/agent HTTP/1.1\r\nHost: attacker.example:" + port + "\r\n\r\n");
    assertThat(foreign).startsWith("HTTP/1.1 403");
    assertThat(new JsonObject(body(foreign)).getString("error")).startsWith("Host attacker.example:");
    assertThat(exchange("GET /api/agent HTTP/1.1\r\nHost: 127.0.0.1.attacker.example\r\n\r\n")).startsWith("HTTP/1.1 403");
  }

  @Test
  void aTokenIsRequiredEverywhereButTheLivenessProbe() throws Exception {
    start(Optional.of("s3cret-token"), HttpServerVerticle.Limits.DEFAULT);
    String host = "Host: 127.0.0.1\r\n";
    String none = exchange("GET /api/agent HTTP/1.1\r\n" + host + "\r\n");
    assertThat(none).startsWith("HTTP/1.1 401").contains("WWW-Authenticate: Bearer");
    assertThat(exchange("GET /api/agent HTTP/1.1\r\n" + host + "Authorization: Bearer wrong\r\n\r\n"))
        .startsWith("HTTP/1.1 401");
    assertThat(exchange("GET /api/agent HTTP/1.1\r\n" + host + "Authorization: Bearer s3cret-token\r\n\r\n"))
        .startsWith("HTTP/1.1 200");
    assertThat(exchange("GET /healthz HTTP/1.1\r\n" + host + "\r\n")).doesNotStartWith("HTTP/1.1 401");
  }

  @Test
  void errorsAreJsonAndHeadIsAnswered() throws Exception {
    start(Optional.empty(), HttpServerVerticle.Limits.DEFAULT);
    String host = "Host: 127.0.0.1\r\n";
    String missing = exchange("GET /nope HTTP/1.1\r\n" + host + "\r\n");
    assertThat(missing).startsWith("HTTP/1.1 404").contains("application/json");
    assertThat(new JsonObject(body(missing)).getString("error")).startsWith("no such path: /nope");
    String post = exchange("POST /api/agent HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n");
    assertThat(post).startsWith("HTTP/1.1 405").contains("application/json");
    String head = exchange("HEAD /api/agent HTTP/1.1\r\n" + host + "\r\n");
    assertThat(head).startsWith("HTTP/1.1 200");
    assertThat(body(head)).isEmpty();
  }

  @Test
  void connectionsBeyondTheLimitAreClosedAndRoomComesBackAsOthersClose() throws Exception {
    start(Optional.empty(), new HttpServerVerticle.Limits(8, 60_000));
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        idle.add(new Socket(LO, port));
      }
      awaitOpen(8);
      try (Socket extra = new Socket(LO, port)) {
        extra.setSoTimeout(5_000);
        assertThat(extra.getInputStream().read()).as("the 9th connection is closed at once").isEqualTo(-1);
      }
      assertThat(server.connectionStats().refused()).isEqualTo(1);
      idle.removeFirst().close();
      awaitOpen(7);
      assertThat(exchange("GET /api/agent HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).startsWith("HTTP/1.1 200");
    } finally {
      for (Socket s : idle) {
        s.close();
      }
    }
  }

  @Test
  void aSlowRequestHeadIsCutOffAtTheHeaderDeadline() throws Exception {
    start(Optional.empty(), new HttpServerVerticle.Limits(64, 300));
    try (Socket slow = new Socket(LO, port)) {
      slow.setSoTimeout(5_000);
      slow.getOutputStream().write("GET /api/agent HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
      long t0 = System.nanoTime();
      InputStream in = slow.getInputStream();
      int b;
      try {
        b = in.read();
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the server kept a slow request head open for 5 s");
      }
      assertThat(b).isEqualTo(-1);
      assertThat(System.nanoTime() - t0).as("closed after the deadline, not before").isGreaterThan(200_000_000L);
    }
    assertThat(server.connectionStats().timedOut()).isEqualTo(1);
    // a keep-alive connection gets the same deadline for its next request head
    try (Socket keep = new Socket(LO, port)) {
      keep.setSoTimeout(5_000);
      keep.getOutputStream().write("GET /api/agent HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] buf = new byte[4096];
      int n = keep.getInputStream().read(buf);
      assertThat(new String(buf, 0, n, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
      int rest;
      do {
        rest = keep.getInputStream().read(buf);
      } while (rest > 0);
      assertThat(rest).isEqualTo(-1);
    }
    assertThat(server.connectionStats().timedOut()).isEqualTo(2);
  }

  @Test
  void anIpv4WildcardBindsAnIpv4SocketNotTheDualStackIpv6One() throws Exception {
    start("0.0.0.0", Optional.empty(), HttpServerVerticle.Limits.DEFAULT);
    assertThat(exchange("GET /api/agent HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n")).startsWith("HTTP/1.1 200");
    // what the kernel has: a listener on 0.0.0.0:port in /proc/net/tcp, none in /proc/net/tcp6
    String local = String.format(":%04X", port);
    assertThat(listeners(Path.of("/proc/net/tcp"))).as("IPv4 listeners").contains("00000000" + local);
    assertThat(listeners(Path.of("/proc/net/tcp6"))).as("IPv6 listeners").noneMatch(l -> l.endsWith(local));
    if (Files.exists(Path.of("/proc/net/tcp6")) && !Files.readString(Path.of("/proc/net/tcp6")).isBlank()) {
      try (Socket v6 = new Socket(InetAddress.getByName("::1"), port)) {
        throw new AssertionError("an IPv6 connection reached the IPv4 wildcard " + v6);
      } catch (java.net.ConnectException expected) {
        // nothing listens on IPv6
      }
    }
  }

  @Test
  void aLoopbackAddressBindsAnIpv4Socket() throws Exception {
    start(Optional.empty(), HttpServerVerticle.Limits.DEFAULT);
    String local = String.format(":%04X", port);
    assertThat(listeners(Path.of("/proc/net/tcp"))).contains("0100007F" + local);
    assertThat(listeners(Path.of("/proc/net/tcp6"))).noneMatch(l -> l.endsWith(local));
  }

  /** The local addresses ("0100007F:1F90") of the listening sockets in a /proc/net/tcp* table. */
  private static List<String> listeners(Path table) throws IOException {
    if (!Files.exists(table)) {
      return List.of();
    }
    return Files.readAllLines(table).stream().skip(1).map(String::trim).map(l -> l.split("\\s+"))
        .filter(f -> f.length > 3 && f[3].equals("0A")).map(f -> f[1].replaceFirst("^0{24}", "")
            .replaceFirst("^0000000000000000FFFF0000", "")).toList();
  }

  private void awaitOpen(int n) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (server.connectionStats().open() != n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(server.connectionStats().open()).isEqualTo(n);
  }
}
