package dev.wmscope.agent.http;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
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

  /** Answers with a JSON document, never cached: every answer is the state at that moment. */
  static Future<Void> json(HttpServerResponse response, int status, JsonObject body) {
    return response.setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.encode());
  }

  /** A read-only endpoint: GET, and HEAD (the same headers, no body). */
  static Route read(Router router, String path) {
    return router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
  }
}
