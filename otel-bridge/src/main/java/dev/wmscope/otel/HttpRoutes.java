package dev.wmscope.otel;

import java.util.ArrayList;
import java.util.List;

/**
 * Route templates an operator configures ({@code --http-route '/users/{id}'}): a path matches a
 * template when it has as many segments and each literal segment is equal; {@code {name}}
 * matches any one non-empty segment, a last segment {@code {name...}} any rest (one or more
 * segments). The first template that matches is the route; a path that matches none has no
 * route (the raw path is never used as one: unbounded cardinality).
 *
 * <p>Immutable and thread-safe.
 */
public final class HttpRoutes {
  public static final HttpRoutes NONE = new HttpRoutes(List.of());

  private final List<String> templates;
  private final List<String[]> segments;

  private HttpRoutes(List<String> templates) {
    this.templates = List.copyOf(templates);
    this.segments = templates.stream().map(HttpRoutes::split).toList();
  }

  /**
   * @throws IllegalArgumentException for a template that does not start with '/', or has an
   *     unclosed or empty {@code {}} segment, or a rest segment that is not the last
   */
  public static HttpRoutes of(List<String> templates) {
    List<String> checked = new ArrayList<>();
    for (String t : templates) {
      checked.add(check(t));
    }
    return new HttpRoutes(checked);
  }

  private static String check(String t) {
    if (t == null || !t.startsWith("/")) {
      throw new IllegalArgumentException("route template '" + t + "' must start with '/'");
    }
    String[] parts = split(t);
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      boolean open = p.startsWith("{");
      if (open != p.endsWith("}") || p.equals("{}") || p.equals("{...}")) {
        throw new IllegalArgumentException("route template '" + t + "': segment '" + p
            + "' must be literal or a whole {name}");
      }
      if (open && p.endsWith("...}") && i != parts.length - 1) {
        throw new IllegalArgumentException("route template '" + t + "': " + p + " must be the last segment");
      }
    }
    return t;
  }

  private static String[] split(String path) {
    String p = path.startsWith("/") ? path.substring(1) : path;
    return p.isEmpty() ? new String[0] : p.split("/", -1);
  }

  public List<String> templates() {
    return templates;
  }

  /** The first template the path matches, or null. */
  public String match(String path) {
    if (templates.isEmpty()) {
      return null;
    }
    String[] got = split(path);
    for (int t = 0; t < templates.size(); t++) {
      if (matches(segments.get(t), got)) {
        return templates.get(t);
      }
    }
    return null;
  }

  private static boolean matches(String[] want, String[] got) {
    for (int i = 0; i < want.length; i++) {
      String w = want[i];
      boolean variable = w.startsWith("{");
      if (variable && w.endsWith("...}") && i == want.length - 1) {
        return got.length > i && !got[i].isEmpty();
      }
      if (i >= got.length) {
        return false;
      }
      if (variable ? got[i].isEmpty() : !w.equals(got[i])) {
        return false;
      }
    }
    return want.length == got.length;
  }
}
