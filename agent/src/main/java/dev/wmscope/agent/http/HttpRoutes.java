package dev.wmscope.agent.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;

/**
 * A group of endpoints served by the agent's one HTTP server ({@link HttpServerVerticle}).
 * Each feature (Prometheus metrics, the API, the page) contributes its routes through one
 * implementation, so the server knows nothing of what it serves.
 *
 * <p>{@link #mount} runs once, on the event loop, when the server starts. Handlers that do more
 * than a few microseconds of work must not block the event loop: use
 * {@code ctx.vertx().executeBlocking(...)} or {@code route.blockingHandler(...)}.
 */
@FunctionalInterface
public interface HttpRoutes {
  /** Adds this group's routes (e.g. {@code HttpRoutes.read(router, "/metrics").handler(...)}). */
  void mount(Router router);

  /** A read-only endpoint: GET, and HEAD (the same headers, no body). */
  static Route read(Router router, String path) {
    return router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
  }
}
