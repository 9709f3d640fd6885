package dev.wmscope.agent.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.List;

/**
 * The agent's single HTTP server: one listening socket, a Vert.x web router, and the routes
 * each feature contributes ({@link HttpRoutes}). Start fails with "listen on host:port: cause"
 * when the address is taken or invalid, so the agent stops before attaching anything.
 *
 * <p>Ownership: Vert.x owns the verticle; undeploying it (or closing Vert.x) closes the socket.
 * {@link #actualPort()} is valid after start completes (it differs from the configured port
 * when that is 0).
 */
public final class HttpServerVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(HttpServerVerticle.class.getName());

  private final HttpAddress address;
  private final List<HttpRoutes> routes;
  private volatile HttpServer server;

  public HttpServerVerticle(HttpAddress address, List<HttpRoutes> routes) {
    this.address = address;
    this.routes = List.copyOf(routes);
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    routes.forEach(r -> r.mount(router));
    // HTTP/1.1 only: scrapers and browsers use it, and the cleartext HTTP/2 upgrade (h2c) that
    // clients such as java.net.http ask for by default only adds a fragile extra handshake
    HttpServerOptions options = new HttpServerOptions().setCompressionSupported(true).setHttp2ClearTextEnabled(false);
    return vertx.createHttpServer(options)
        .requestHandler(router)
        .listen(address.port(), address.host())
        .recover(e -> Future.failedFuture(new IllegalStateException(
            "listen on " + address + ": " + e.getMessage()
                + " (choose another address with --http-address, or --http-address none)", e)))
        .onSuccess(s -> {
          server = s;
          LOG.log(System.Logger.Level.INFO, "serving HTTP on {0}",
              new HttpAddress(address.host(), s.actualPort()).toString());
        });
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
