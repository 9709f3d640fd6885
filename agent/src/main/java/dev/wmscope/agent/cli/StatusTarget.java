package dev.wmscope.agent.cli;

import dev.wmscope.agent.Agent;
import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.AgentLock;
import dev.wmscope.agent.ExportConfig;
import dev.wmscope.agent.api.ApiJson;
import dev.wmscope.agent.http.HttpAddress;
import dev.wmscope.agent.selection.Selection;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.KernelFeature;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where {@code wmscope status} and {@code connections} get their numbers: a running agent's HTTP
 * API when one answers (at {@code --http-address}, or at the address the agent holding the lock
 * file wrote), else an agent embedded in this process that samples the kernel (watching every
 * Workerman app, adopting connections that are already open). Both give the same JSON documents
 * ({@link ApiJson}).
 *
 * <p>Not thread-safe. {@link #close()} stops an embedded agent (detaching its programs).
 */
final class StatusTarget implements AutoCloseable {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  private final URI base;
  private final Agent embedded;
  private final HttpClient http;
  private final String description;

  private final Optional<String> token;

  private StatusTarget(URI base, Agent embedded, HttpClient http, String description, Optional<String> token) {
    this.base = base;
    this.embedded = embedded;
    this.http = http;
    this.description = description;
    this.token = token;
  }

  /** A GET of {@code uri}, with the bearer token when there is one. */
  private static HttpRequest request(URI uri, Optional<String> token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET();
    token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b.build();
  }

  /** What answered, for the header line. */
  String description() {
    return description;
  }

  boolean embedded() {
    return embedded != null;
  }

  /**
   * Finds a running agent, or starts an embedded one.
   *
   * @param address  where to look first
   * @param lockFile where a running agent writes its address
   * @param poll     the embedded agent's poll interval
   * @param notes    receives one line when falling back to a kernel sample
   */
  static StatusTarget open(Optional<HttpAddress> address, Path lockFile, Duration poll,
      java.util.function.Consumer<String> notes, Optional<String> token) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER).build();
    String tried = "";
    if (address.isPresent()) {
      URI uri = uri(address.get());
      if (answers(client, uri, token)) {
        return new StatusTarget(uri, null, client, "agent at " + address.get(), token);
      }
      tried = address.get().toString();
    }
    Optional<AgentLock.Holder> holder = AgentLock.holder(lockFile);
    if (holder.isPresent() && !holder.get().http().isEmpty() && !holder.get().http().equals("none")) {
      try {
        HttpAddress a = HttpAddress.parse(holder.get().http());
        URI uri = uri(a);
        if (answers(client, uri, token)) {
          return new StatusTarget(uri, null, client, "agent at " + a + " (pid " + holder.get().pid() + ")", token);
        }
      } catch (IllegalArgumentException e) {
        // an unreadable address in the lock file: sample instead
      }
    }
    notes.accept("no agent answered" + (tried.isEmpty() ? "" : " at " + tried)
        + holder.map(h -> " (the agent holding " + lockFile + ", pid " + h.pid() + ", "
            + (h.http().isEmpty() || h.http().equals("none") ? "serves no HTTP" : "did not answer at " + h.http()) + ")")
            .orElse("")
        + "; sampling the kernel here");
    AgentConfig config = new AgentConfig(
        new ConnectionProbe.Options(CgroupV2.requireMount(), 65_536, 1 << 22, KernelFeature.disabledByEnvironment()),
        new Selection(Set.of(), Set.of(), Optional.empty(), Optional.empty()),
        AgentConfig.Output.NONE, Duration.ofMillis(500), poll, AgentConfig.DEFAULT_STALL_THRESHOLD,
        AgentConfig.DEFAULT_SERIES_RETENTION);
    // no exporters and no HTTP server: the sample is for this command only
    ExportConfig export = new ExportConfig(Map.of("otel.traces.exporter", "none", "otel.metrics.exporter", "none"),
        Optional.empty());
    Agent agent = Agent.start(config, export, System.out);
    return new StatusTarget(null, agent, null, "kernel sample (no agent running)", token);
  }

  private static URI uri(HttpAddress a) {
    String host = a.host();
    if (host.equals("0.0.0.0")) {
      host = "127.0.0.1";
    } else if (host.equals("::")) {
      host = "::1";
    }
    return URI.create("http://" + new HttpAddress(host, a.port()) + "/");
  }

  /** Whether a wmscope agent answers /api/agent there. */
  private static boolean answers(HttpClient client, URI base, Optional<String> token) {
    try {
      HttpResponse<String> r = client.send(request(base.resolve("api/agent"), token), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && new JsonObject(r.body()).containsKey("version");
    } catch (IOException | DecodeException | IllegalArgumentException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The {@code /api/status} document. */
  JsonObject status() throws IOException, InterruptedException {
    return embedded != null ? ApiJson.status(embedded) : get("api/status", Map.of());
  }

  /** The {@code /api/topology} document. */
  JsonObject topology() throws IOException, InterruptedException {
    return embedded != null ? ApiJson.topology(embedded) : get("api/topology", Map.of());
  }

  /** The {@code /api/requests} document. */
  JsonObject requests(int limit) throws IOException, InterruptedException {
    return embedded != null ? ApiJson.requests(embedded, limit) : get("api/requests", Map.of("limit", Integer.toString(limit)));
  }

  /** The {@code /api/connections} document. */
  JsonObject connections(ApiJson.ConnectionFilter f) throws IOException, InterruptedException {
    if (embedded != null) {
      return ApiJson.connections(embedded.view(), f);
    }
    Map<String, String> q = new LinkedHashMap<>();
    if (f.worker() != null) {
      q.put("worker", f.worker());
    }
    if (f.port() != null) {
      q.put("port", f.port().toString());
    }
    if (f.peer() != null) {
      q.put("peer", f.peer());
    }
    if (f.pid() != null) {
      q.put("pid", f.pid().toString());
    }
    q.put("limit", Integer.toString(f.limit()));
    q.put("sort", f.sort());
    return get("api/connections", q);
  }

  private JsonObject get(String path, Map<String, String> query) throws IOException, InterruptedException {
    String qs = query.entrySet().stream()
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    URI uri = base.resolve(path + (qs.isEmpty() ? "" : "?" + qs));
    HttpResponse<String> r = http.send(request(uri, token), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      String why = r.body();
      try {
        why = new JsonObject(r.body()).getString("error", why);
      } catch (DecodeException e) {
        // not JSON: show the body
      }
      throw new IOException("GET " + uri + ": HTTP " + r.statusCode() + " " + why);
    }
    return new JsonObject(r.body());
  }

  @Override
  public void close() {
    if (embedded != null) {
      embedded.close();
    }
  }
}
