package dev.wmscope.agent.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The live page at {@code /}: static HTML, CSS and JavaScript from the jar (no CDN, no build
 * step), read into memory once. The page polls {@code /api/*} and draws its charts itself.
 */
public final class PageRoutes implements HttpRoutes {
  static final String RESOURCES = "/dev/wmscope/agent/http/page/";
  private static final Map<String, String> FILES = Map.of(
      "/", "index.html",
      "/index.html", "index.html",
      "/app.js", "app.js",
      "/style.css", "style.css",
      "/favicon.svg", "favicon.svg");

  private final Map<String, Buffer> content;

  public PageRoutes() {
    java.util.HashMap<String, Buffer> c = new java.util.HashMap<>();
    FILES.values().stream().distinct().forEach(f -> c.put(f, Buffer.buffer(read(f))));
    content = Map.copyOf(c);
  }

  private static byte[] read(String file) {
    try (InputStream in = PageRoutes.class.getResourceAsStream(RESOURCES + file)) {
      if (in == null) {
        throw new IllegalStateException("page resource " + RESOURCES + file + " missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("read page resource " + file, e);
    }
  }

  static String contentType(String file) {
    if (file.endsWith(".html")) {
      return "text/html; charset=utf-8";
    }
    if (file.endsWith(".js")) {
      return "text/javascript; charset=utf-8";
    }
    if (file.endsWith(".css")) {
      return "text/css; charset=utf-8";
    }
    return "image/svg+xml";
  }

  @Override
  public void mount(Router router) {
    FILES.forEach((path, file) -> HttpRoutes.read(router, path).handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, contentType(file))
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'")
        .end(content.get(file))));
  }
}
