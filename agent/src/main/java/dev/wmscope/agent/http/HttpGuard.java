package dev.wmscope.agent.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * What a request must pass before any route sees it, because any local user, and through a
 * browser any web page (DNS rebinding), can send one: a well-formed HTTP/1.x request with a Host
 * header; on a loopback bind, a Host that names loopback; with a token configured, {@code
 * Authorization: Bearer TOKEN} (everywhere but {@code /healthz}). A refused request is answered
 * with a JSON error and counted; the log gets at most one line per {@link #LOG_EVERY_NANOS} with
 * the count, never one line per request.
 *
 * <p>Thread-safety: counters are atomic; called on the server's event loop.
 */
public final class HttpGuard {
  private static final System.Logger LOG = System.getLogger(HttpGuard.class.getName());
  /** The most often a refused request is logged (with the count since the last line). */
  static final long LOG_EVERY_NANOS = 60_000_000_000L;
  /** Open even with a token: liveness probes rarely carry credentials. */
  static final String UNGUARDED_PATH = "/healthz";

  private final boolean loopbackBind;
  private final Optional<byte[]> token;
  private final LongSupplier clock;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong refusedSinceLog = new AtomicLong();
  private volatile long nextLog = Long.MIN_VALUE;

  /**
   * @param address where the server listens (a loopback bind checks the Host header)
   * @param token   the bearer token every request but {@code /healthz} must carry, if any
   */
  public HttpGuard(HttpAddress address, Optional<String> token) {
    this(isLoopback(address.host()), token, System::nanoTime);
  }

  HttpGuard(boolean loopbackBind, Optional<String> token, LongSupplier clock) {
    this.loopbackBind = loopbackBind;
    this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
    this.clock = clock;
  }

  private static final java.util.regex.Pattern LOOPBACK_V4 = java.util.regex.Pattern.compile("127(\\.\\d{1,3}){3}");

  /**
   * Whether a host is a loopback one: {@code localhost}, an IPv4 literal in 127.0.0.0/8 or
   * {@code ::1}; never a name that merely starts like one ({@code 127.0.0.1.attacker.example}
   * resolves wherever its owner likes).
   */
  public static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost") || LOOPBACK_V4.matcher(h).matches() || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
  }

  /** A refusal: the status and the message of the JSON error. */
  record Refusal(int status, String error) {}

  /** Why this request is refused, or empty when it may go to the routes. */
  Optional<Refusal> check(HttpServerRequest req) {
    if (req.decoderResult().isFailure()) {
      return Optional.of(new Refusal(400, "malformed request"));
    }
    String host = req.getHeader(HttpHeaders.HOST);
    if (host == null || host.isBlank()) {
      if (req.version() != HttpVersion.HTTP_1_0) {
        return Optional.of(new Refusal(400, "missing Host header"));
      }
    } else if (loopbackBind && !isLoopback(hostPart(host))) {
      return Optional.of(new Refusal(403, "Host " + clip(host) + " is not this loopback address (the agent answers"
          + " only requests addressed to localhost, 127.0.0.1 or [::1])"));
    }
    if (token.isPresent() && !UNGUARDED_PATH.equals(req.path()) && !authorized(req.getHeader(HttpHeaders.AUTHORIZATION))) {
      return Optional.of(new Refusal(401, "missing or wrong bearer token (Authorization: Bearer ...)"));
    }
    return Optional.empty();
  }

  private boolean authorized(String header) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token.get()); // constant time
  }

  /** Answers a refused request and counts it; logs at most once per minute. */
  void refuse(HttpServerRequest req, Refusal r) {
    refused.incrementAndGet();
    long n = refusedSinceLog.incrementAndGet();
    long now = clock.getAsLong();
    if (nextLog == Long.MIN_VALUE || now - nextLog >= 0) {
      nextLog = now + LOG_EVERY_NANOS;
      refusedSinceLog.addAndGet(-n);
      LOG.log(System.Logger.Level.WARNING, "refused " + n + " HTTP request" + (n == 1 ? "" : "s")
          + (n == 1 ? "" : " in the last minute") + " (latest: " + r.status() + " " + r.error() + ", from "
          + req.remoteAddress() + "); counted in /api/agent http.requests_refused");
    }
    var response = req.response();
    if (r.status() == 401) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"wmscope\"");
    }
    boolean close = r.status() == 400; // a broken client's stream cannot be trusted further
    if (close) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    HttpRoutes.json(response, r.status(), new JsonObject().put("error", r.error())).onComplete(v -> {
      if (close) {
        req.connection().close();
      }
    });
  }

  /** Whether a bearer token is required. */
  boolean tokenRequired() {
    return token.isPresent();
  }

  /** Requests refused so far. */
  public long refused() {
    return refused.get();
  }

  /** The host of a Host header value: "[::1]:9464" -> "::1", "localhost:9464" -> "localhost". */
  static String hostPart(String hostHeader) {
    String h = hostHeader.strip();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(1, end);
    }
    int colon = h.indexOf(':');
    String name = colon < 0 ? h : h.substring(0, colon);
    return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
  }

  private static String clip(String s) {
    String printable = s.replaceAll("\\p{Cntrl}", "?");
    return printable.length() > 80 ? printable.substring(0, 80) + "..." : printable;
  }
}
