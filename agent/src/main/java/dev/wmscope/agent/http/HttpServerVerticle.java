package dev.wmscope.agent.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's single HTTP server: one listening socket, a Vert.x web router, and the routes
 * each feature contributes ({@link HttpRoutes}). Start fails with "listen on host:port: cause"
 * when the address is taken or invalid, so the agent stops before attaching anything.
 *
 * <p>Limits, because any local user can connect and the agent is privileged: at most
 * {@link #MAX_CONNECTIONS} connections at once (more are closed as they arrive and counted), a
 * connection that has not sent a complete request head within {@link #HEADER_TIMEOUT_MILLIS} of
 * connecting or of its previous response is closed (slowloris), and one idle for
 * {@link #IDLE_TIMEOUT_SECONDS} is closed too. So the HTTP side's memory is bounded whatever
 * clients do, and cannot take the heap the kernel-event path needs.
 *
 * <p>Ownership: Vert.x owns the verticle; undeploying it (or closing Vert.x) closes the socket.
 * {@link #actualPort()} is valid after start completes (it differs from the configured port
 * when that is 0).
 */
public final class HttpServerVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(HttpServerVerticle.class.getName());

  /** Concurrent connections; a scraper, a browser tab and the CLI need a handful. */
  static final int MAX_CONNECTIONS = 64;
  /** From connecting, or from the last response, to a complete request head. */
  static final long HEADER_TIMEOUT_MILLIS = 10_000;
  /** A connection without any traffic this long is closed (keep-alive between scrapes). */
  static final int IDLE_TIMEOUT_SECONDS = 60;

  private final HttpAddress address;
  private final List<HttpRoutes> routes;
  private volatile HttpServer server;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();
  /** Per connection, the timer that closes it unless a request head arrives (event-loop confined). */
  private final Map<HttpConnection, Long> headerTimers = new HashMap<>();

  private final HttpGuard guard;
  private final Limits limits;

  /** The connection limits (tests shorten them). */
  record Limits(int maxConnections, long headerTimeoutMillis) {
    static final Limits DEFAULT = new Limits(MAX_CONNECTIONS, HEADER_TIMEOUT_MILLIS);
  }

  public HttpServerVerticle(HttpAddress address, List<HttpRoutes> routes) {
    this(address, routes, Optional.empty());
  }

  /** @param token the bearer token requests must carry (see {@link HttpGuard}), if any */
  public HttpServerVerticle(HttpAddress address, List<HttpRoutes> routes, Optional<String> token) {
    this(address, routes, token, Limits.DEFAULT);
  }

  HttpServerVerticle(HttpAddress address, List<HttpRoutes> routes, Optional<String> token, Limits limits) {
    this.address = address;
    this.routes = List.copyOf(routes);
    this.guard = new HttpGuard(address, token);
    this.limits = limits;
  }

  /**
   * The Vert.x to deploy this server on: one whose listening socket binds {@code address}
   * exactly (an IPv4 address as an IPv4 socket, see {@link ExactBindTransport}).
   */
  public static io.vertx.core.Vertx vertxFor(HttpAddress address) {
    return ExactBindTransport.vertxFor(address);
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    routes.forEach(r -> r.mount(router));
    // every error a JSON document, never an HTML page or a log line per request
    router.errorHandler(404, ctx -> error(ctx, 404, "no such path: " + ctx.request().path()
        + " (see / for the page, /api/status, /metrics)"));
    router.errorHandler(405, ctx -> error(ctx, 405, "only GET and HEAD are served"));
    router.errorHandler(500, ctx -> {
      guard.refuse(ctx.request(), new HttpGuard.Refusal(500, "internal error: " + ctx.failure()));
    });
    // HTTP/1.1 only: scrapers and browsers use it, and the cleartext HTTP/2 upgrade (h2c) that
    // clients such as java.net.http ask for by default only adds a fragile extra handshake
    HttpServerOptions options = new HttpServerOptions().setCompressionSupported(true).setHttp2ClearTextEnabled(false)
        .setIdleTimeout(IDLE_TIMEOUT_SECONDS).setMaxInitialLineLength(4096).setMaxHeaderSize(8192);
    return vertx.createHttpServer(options)
        .connectionHandler(this::admit)
        .requestHandler(req -> {
          HttpConnection c = req.connection();
          disarm(c);
          req.response().endHandler(v -> arm(c)); // keep-alive: the next head has the same deadline
          Optional<HttpGuard.Refusal> refusal = guard.check(req);
          if (refusal.isPresent()) {
            guard.refuse(req, refusal.get());
          } else {
            router.handle(req);
          }
        })
        .listen(address.port(), address.host())
        // a taken, foreign or unresolvable address is the operator's configuration (exit 2)
        .recover(e -> Future.failedFuture(new dev.wmscope.agent.config.ConfigException(
            "listen on " + address + ": " + e.getMessage()
                + " (choose another address with --http-address, or --http-address none)")))
        .onSuccess(s -> {
          server = s;
          LOG.log(System.Logger.Level.INFO, "serving HTTP on {0}",
              new HttpAddress(address.host(), s.actualPort()).toString());
          if (!HttpGuard.isLoopback(address.host())) {
            LOG.log(System.Logger.Level.WARNING, "the HTTP server on " + address + " is reachable from other hosts"
                + (guard.tokenRequired() ? " (requests need the bearer token of --http-token-file)"
                    : " without credentials: give --http-token-file, or bind 127.0.0.1"));
          }
        });
  }

  /** Counts a new connection, closes it beyond the limit, and starts its header deadline. */
  private void admit(HttpConnection c) {
    c.closeHandler(v -> {
      open.decrementAndGet();
      disarm(c);
    });
    if (open.incrementAndGet() > limits.maxConnections()) {
      refused.incrementAndGet();
      c.close();
      return;
    }
    arm(c);
  }

  private void arm(HttpConnection c) {
    disarm(c);
    headerTimers.put(c, vertx.setTimer(limits.headerTimeoutMillis(), id -> {
      headerTimers.remove(c);
      timedOut.incrementAndGet();
      c.close();
    }));
  }

  private void disarm(HttpConnection c) {
    Long id = headerTimers.remove(c);
    if (id != null) {
      vertx.cancelTimer(id);
    }
  }

  private static void error(io.vertx.ext.web.RoutingContext ctx, int status, String message) {
    HttpRoutes.json(ctx.response(), status, new io.vertx.core.json.JsonObject().put("error", message));
  }

  /**
   * Connections open now, closed at arrival beyond the limit, closed for a late request head,
   * and requests refused by the guard (bad, foreign Host, no token) or failed in a route.
   */
  public record ConnectionStats(int open, long refused, long timedOut, long requestsRefused) {}

  public ConnectionStats connectionStats() {
    return new ConnectionStats(Math.max(0, open.get()), refused.get(), timedOut.get(), guard.refused());
  }

  @Override
  public Future<?> stop() {
    HttpServer s = server;
    return s == null ? Future.succeededFuture() : s.close();
  }

  /** The bound port, or -1 before start completed. */
  public int actualPort() {
    HttpServer s = server;
    return s == null ? -1 : s.actualPort();
  }
}
