package dev.wmscope.agent.http;

import dev.wmscope.agent.api.ApiJson;
import dev.wmscope.agent.api.StatusSource;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The agent's JSON API and health endpoints (field reference in the README):
 *
 * <ul>
 *   <li>{@code GET /healthz}: 200 while the process serves HTTP (liveness).</li>
 *   <li>{@code GET /readyz}: 200 once the programs are attached and the first discovery pass is
 *       done, else 503 with the reasons (readiness); either way the kernel features not in use.</li>
 *   <li>{@code GET /api/status}: agent, totals, workers and listeners in one document (what
 *       {@code wmscope status} prints).</li>
 *   <li>{@code GET /api/workers}, {@code /api/listeners}, {@code /api/agent}, {@code /api/history}.</li>
 *   <li>{@code GET /api/events}: recent worker starts and exits with their causes, newest first.</li>
 *   <li>{@code GET /api/topology}: GatewayWorker apps, their processes by role and internal links.</li>
 *   <li>{@code GET /api/connections?worker=&port=&peer=&pid=&limit=&sort=}: open connections.</li>
 *   <li>{@code GET /api/top?limit=}: peers by bytes.</li>
 *   <li>{@code GET /api/requests?limit=}: recent slow or failed HTTP requests, newest first.</li>
 * </ul>
 *
 * <p>Documents are built from the agent's immutable view on a worker thread (a host may have
 * tens of thousands of connections), never on the event loop. Bad query parameters answer 400
 * with {@code {"error": "..."}}.
 */
public final class ApiRoutes implements HttpRoutes {
  private final StatusSource source;

  public ApiRoutes(StatusSource source) {
    this.source = source;
  }

  @Override
  public void mount(Router router) {
    HttpRoutes.read(router, "/healthz").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
    HttpRoutes.read(router, "/readyz").handler(ctx -> {
      List<String> why = source.notReady();
      // a degraded kernel feature does not make the agent unready: it is listed for whoever looks
      json(ctx, why.isEmpty() ? 200 : 503, new JsonObject().put("status", why.isEmpty() ? "ready" : "not ready")
          .put("not_ready", new JsonArray(new java.util.ArrayList<>(why)))
          .put("degraded_features", ApiJson.featureIds(source.degradedFeatures())));
    });
    HttpRoutes.read(router, "/api/status").handler(ctx -> build(ctx, () -> ApiJson.status(source)));
    HttpRoutes.read(router, "/api/workers").handler(ctx -> build(ctx, () -> ApiJson.workers(source)));
    HttpRoutes.read(router, "/api/listeners").handler(ctx -> build(ctx, () -> ApiJson.listenersDocument(source.view())));
    HttpRoutes.read(router, "/api/agent").handler(ctx -> build(ctx, () -> ApiJson.agent(source)));
    HttpRoutes.read(router, "/api/events").handler(ctx -> build(ctx, () -> ApiJson.events(source)));
    HttpRoutes.read(router, "/api/topology").handler(ctx -> build(ctx, () -> ApiJson.topology(source)));
    HttpRoutes.read(router, "/api/requests").handler(ctx -> build(ctx, () -> ApiJson.requests(source,
        Math.max(1, Math.min(1000, intParam(ctx, "limit", 100))))));
    HttpRoutes.read(router, "/api/history").handler(ctx -> build(ctx, () -> ApiJson.history(source.view())));
    HttpRoutes.read(router, "/api/top").handler(ctx -> build(ctx, () -> ApiJson.top(source.view(),
        intParam(ctx, "limit", 10))));
    HttpRoutes.read(router, "/api/connections").handler(ctx -> build(ctx, () -> ApiJson.connections(source.view(),
        new ApiJson.ConnectionFilter(blankToNull(ctx.request().getParam("worker")), integer(ctx, "port"),
            blankToNull(ctx.request().getParam("peer")), longParam(ctx, "pid"),
            intParam(ctx, "limit", ApiJson.DEFAULT_CONNECTION_LIMIT), blankToNull(ctx.request().getParam("sort"))))));
  }

  private static void build(RoutingContext ctx, Callable<JsonObject> document) {
    ctx.vertx().executeBlocking(document, false).onComplete(ar -> {
      if (ar.succeeded()) {
        json(ctx, 200, ar.result());
      } else if (ar.cause() instanceof IllegalArgumentException bad) {
        json(ctx, 400, new JsonObject().put("error", bad.getMessage()));
      } else {
        json(ctx, 500, new JsonObject().put("error", String.valueOf(ar.cause())));
      }
    });
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    HttpRoutes.json(ctx.response(), status, body);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  private static Integer integer(RoutingContext ctx, String name) {
    String v = blankToNull(ctx.request().getParam(name));
    if (v == null) {
      return null;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " " + v + ": not a number");
    }
  }

  private static int intParam(RoutingContext ctx, String name, int dflt) {
    Integer v = integer(ctx, name);
    return v == null ? dflt : v;
  }

  private static Long longParam(RoutingContext ctx, String name) {
    String v = blankToNull(ctx.request().getParam(name));
    if (v == null) {
      return null;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " " + v + ": not a number");
    }
  }
}
