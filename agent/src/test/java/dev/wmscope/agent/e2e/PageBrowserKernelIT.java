package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live page in headless Chromium (Debian's /usr/bin/chromium driven by npm's
 * playwright-core, which downloads no browser): it loads without console errors or failed
 * requests, updates by itself, and shows the numbers /api gives for a known traffic pattern.
 * playwright-core is installed from the lock file in src/test/browser into target/ on first use.
 */
@KernelTest
class PageBrowserKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));

  private static Path browserDir;

  @BeforeAll
  static void browserTools() throws Exception {
    assertThat(WorkermanStandin.phpExecutable()).as("php-cli (apt-get install php-cli)").isPresent();
    assertThat(Files.isExecutable(CHROMIUM)).as("%s (apt-get install chromium; scripts/lib.sh installs it)", CHROMIUM).isTrue();
    Path source = Path.of(System.getProperty("basedir", ".")).resolve("src/test/browser");
    browserDir = Path.of(System.getProperty("basedir", ".")).resolve("target/browser-test");
    Files.createDirectories(browserDir);
    for (String f : List.of("package.json", "package-lock.json", "page-check.js")) {
      Files.copy(source.resolve(f), browserDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.exists(browserDir.resolve("node_modules/playwright-core/package.json"))) {
      Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
          .directory(browserDir.toFile()).redirectErrorStream(true)
          .redirectOutput(browserDir.resolve("npm.log").toFile()).start();
      assertThat(npm.waitFor(5, TimeUnit.MINUTES)).as("npm ci finished").isTrue();
      assertThat(npm.exitValue()).as("npm ci (log: %s)", Files.readString(browserDir.resolve("npm.log"))).isZero();
    }
  }

  /** Runs page-check.js against the page; its JSON result. */
  private static JsonObject check(int http) throws IOException, InterruptedException {
    Process node = new ProcessBuilder("node", "page-check.js", "http://127.0.0.1:" + http + "/",
        browserDir.resolve("page.png").toString()).directory(browserDir.toFile())
        .redirectError(browserDir.resolve("page-check.err").toFile()).start();
    node.getOutputStream().close();
    byte[] out = node.getInputStream().readAllBytes();
    assertThat(node.waitFor(2, TimeUnit.MINUTES)).as("page check finished").isTrue();
    String err = Files.readString(browserDir.resolve("page-check.err"));
    assertThat(node.exitValue()).as("page check: %s", err).isZero();
    return new JsonObject(new String(out, StandardCharsets.UTF_8).strip());
  }

  private static JsonObject row(JsonArray rows, String key) {
    return rows.stream().map(JsonObject.class::cast).filter(r -> key.equals(r.getString("key"))).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + key + " in " + rows.encodePrettily()));
  }

  @Test
  void thePageShowsWhatTheApiSaysWithoutErrors(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    try (var app = WorkermanStandin.create(dir, List.of(WorkermanStandin.worker("Web", "text://127.0.0.1:" + port, 2, true)));
        var agent = new AgentProcess(List.of("run", "--port", String.valueOf(port), "--poll-interval", "250ms",
            "--discovery-interval", "250ms"), Map.of())) {
      app.start(false);
      List<Integer> workers = app.awaitWorkers(2, Set.of(), WAIT);
      int http = agent.httpPort(30_000);
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      Thread.sleep(600); // discovery names the workers
      try (TextClients clients = new TextClients().open(port, InetAddress.getByName("127.0.0.5"), 100, 200, 300, 400, 500)) {
        Await.until(WAIT, "bytes of the five clients", () -> CliRun.json(http, "/api/status").getJsonObject("totals")
            .getLong("bytes_in"), clients.totalBytes());
        Map<Integer, JsonObject> truth = CliKernelIT.own(app, workers, clients.totalBytes());

        JsonObject result = check(http);
        JsonObject status = CliRun.json(http, "/api/status");
        JsonObject top = CliRun.json(http, "/api/top");

        assertThat(result.getJsonArray("problems")).as("console errors, page errors, failed requests").isEmpty();
        JsonObject shown = result.getJsonObject("shown");
        assertThat(shown.getString("state")).isEqualTo("ready");
        assertThat(shown.getString("banner")).isEmpty();

        JsonObject totals = status.getJsonObject("totals");
        assertThat(totals.getLong("active")).isEqualTo(5);
        assertThat(shown.getJsonObject("totals").getString("active")).isEqualTo("5");
        assertThat(shown.getJsonObject("totals").getString("workers")).isEqualTo(totals.getLong("workers") + "/0");
        assertThat(shown.getJsonObject("totals").getString("errors"))
            .isEqualTo(totals.getLong("retransmits") + "/" + totals.getLong("resets"));

        JsonArray pageWorkers = shown.getJsonArray("workers");
        for (int pid : workers) {
          JsonObject onPage = row(pageWorkers, String.valueOf(pid));
          JsonObject api = status.getJsonArray("workers").stream().map(JsonObject.class::cast)
              .filter(w -> w.getLong("pid") == pid).findFirst().orElseThrow();
          assertThat(onPage.getString("name")).isEqualTo("Web");
          assertThat(onPage.getString("listen")).isEqualTo("text://127.0.0.1:" + port);
          assertThat(onPage.getString("active")).isEqualTo(String.valueOf(api.getLong("active")))
              .isEqualTo(String.valueOf(truth.get(pid).getLong("active")));
          assertThat(onPage.getString("accept_queue")).isEqualTo(String.valueOf(api.getLong("accept_queue")));
          assertThat(onPage.getString("state")).isEqualTo("ok");
        }

        // worker health: one event-loop row per worker, as the API says
        for (int pid : workers) {
          JsonObject loop = row(shown.getJsonArray("loops"), String.valueOf(pid));
          JsonObject api = status.getJsonArray("workers").stream().map(JsonObject.class::cast)
              .filter(w -> w.getLong("pid") == pid).findFirst().orElseThrow();
          assertThat(loop.getString("kind")).isEqualTo(api.getJsonObject("eventloop").getString("kind"))
              .isEqualTo("select");
          assertThat(loop.getString("state")).isIn("waiting", "busy");
          assertThat(loop.getString("open_fds")).isNotNull();
        }

        JsonObject peer = row(shown.getJsonArray("peers"), "127.0.0.5");
        JsonObject apiPeer = top.getJsonArray("peers").stream().map(JsonObject.class::cast)
            .filter(p -> p.getString("peer_address").equals("127.0.0.5")).findFirst().orElseThrow();
        assertThat(peer.getString("bytes")).isEqualTo(String.valueOf(apiPeer.getLong("bytes")))
            .isEqualTo(String.valueOf(2 * clients.totalBytes()));
        assertThat(peer.getString("active")).isEqualTo("5");

        assertThat(shown.getJsonArray("listeners")).allSatisfy(l -> assertThat(((JsonObject) l).getString("key"))
            .isEqualTo(String.valueOf(port)));
        assertThat(shown.getJsonArray("listeners")).hasSize(2); // reusePort: one socket per worker

        JsonObject charts = shown.getJsonObject("charts");
        assertThat(charts.getLong("active")).as("pixels drawn in the active-connections chart").isPositive();
        assertThat(charts.getLong("bytes")).isPositive();
        assertThat(charts.getLong("rtt")).isPositive();
        assertThat(shown.getJsonObject("self").fieldNames()).contains("events", "poll_lag", "events_dropped",
            "export_failures", "heap");
        assertThat(Long.parseLong(shown.getJsonObject("self").getString("heap"))).isPositive();
        assertThat(shown.getJsonObject("topology").getBoolean("hidden")).as("no GatewayWorker app, no topology section")
            .isTrue();
        assertThat(CliRun.json(http, "/api/topology").getJsonArray("apps")).isEmpty();
      }
    }
  }

  /**
   * The Gateway topology section against /api/topology, with a GatewayWorker-shaped stand-in: a
   * Register, two Gateways, "ChatBusiness" linked to both and "Lonely&lt;i&gt;x&lt;/i&gt;" linked
   * to one, so 7 links and 1 expected link missing (Lonely to the second Gateway), and 3 clients on
   * the Gateways. The page shows the same 5 processes with their roles, inner ports, clients and
   * client opens, a matrix row per client process and a column per server process, one link cell
   * per link of the API, exactly the missing link flagged, and the title's markup as text.
   */
  @Test
  void theTopologySectionShowsTheProcessesLinksAndTheMissingLinkOfTheApi(@TempDir Path dir) throws Exception {
    var p = GatewayLinksKernelIT.Ports.pick();
    String lonelyName = "Lonely<i>x</i>"; // a title any local user sets: shown as text, never as markup
    var app = p.withALonelyBusinessWorker(dir, lonelyName);
    List<Socket> clients = new ArrayList<>();
    try (app; var agent = new AgentProcess(List.of("run", "--poll-interval", "250ms", "--discovery-interval", "250ms"),
        Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      app.start(false);
      app.awaitWorkers(5, Set.of(), WAIT);
      int http = agent.httpPort(30_000);
      long lonely = GatewayLinksKernelIT.pidsByName(app).get(lonelyName).iterator().next();
      // the clients connect once the gateways' port is watched, so each is opened while watched
      awaitTopology(http, "0/7/1");
      for (int i = 0; i < 3; i++) {
        clients.add(new Socket(InetAddress.getLoopbackAddress(), p.gateway()));
      }
      awaitTopology(http, "3/7/1");

      JsonObject result = check(http);
      JsonObject api = CliRun.json(http, "/api/topology").getJsonArray("apps").getJsonObject(0);
      assertThat(topologyShape(api)).as("the app did not change meanwhile: %s", api).isEqualTo("3/7/1");

      assertThat(result.getJsonArray("problems")).as("console errors, page errors, failed requests").isEmpty();
      JsonObject topo = result.getJsonObject("shown").getJsonObject("topology");
      assertThat(topo.getBoolean("hidden")).isFalse();
      assertThat(topo.getJsonArray("apps")).hasSize(1);
      JsonObject page = topo.getJsonArray("apps").getJsonObject(0);
      assertThat(page.getString("master_pid")).isEqualTo(String.valueOf(api.getLong("master_pid")));
      assertThat(page.getString("heading")).contains(api.getString("start_file")).contains("7 links", "1 missing");

      List<JsonObject> processes = api.getJsonArray("processes").stream().map(JsonObject.class::cast).toList();
      assertThat(page.getJsonArray("processes").stream().map(o -> ((JsonObject) o).getString("key")))
          .as("the same processes in the same order")
          .containsExactlyElementsOf(processes.stream().map(n -> String.valueOf(n.getLong("pid"))).toList());
      for (JsonObject n : processes) {
        JsonObject row = row(page.getJsonArray("processes"), String.valueOf(n.getLong("pid")));
        assertThat(row.getString("role")).isEqualTo(n.getString("role"));
        assertThat(row.getString("name")).isEqualTo(n.getString("name"));
        assertThat(row.getString("listen")).isEqualTo(n.getString("listen"));
        if (n.getString("role").equals("gateway")) {
          assertThat(row.getString("inner_ports")).isEqualTo(String.valueOf(n.getJsonArray("inner_ports").getInteger(0)));
          assertThat(row.getString("clients")).isEqualTo(String.valueOf(n.getLong("clients")));
          assertThat(page.getJsonObject("opened").getString(String.valueOf(n.getLong("pid"))))
              .isEqualTo(String.valueOf(n.getLong("clients_opened")));
          assertThat(Double.parseDouble(row.getString("clients_opened_per_s"))).isNotNegative();
        } else {
          assertThat(row.getString("clients")).isNull();
        }
      }
      long shownClients = processes.stream().filter(n -> n.getString("role").equals("gateway"))
          .mapToLong(n -> Long.parseLong(row(page.getJsonArray("processes"), String.valueOf(n.getLong("pid")))
              .getString("clients"))).sum();
      assertThat(shownClients).isEqualTo(3);
      assertThat(page.getJsonObject("opened").stream().mapToLong(e -> Long.parseLong((String) e.getValue())).sum())
          .as("client connections opened: the 3 clients").isEqualTo(3);

      assertThat(page.getJsonArray("matrix_rows").getList()).as("a row per client process: gateways, business workers")
          .containsExactlyElementsOf(pidsWithRole(processes, "gateway", "business_worker"));
      assertThat(page.getJsonArray("columns").getList()).as("a column per server process: register, gateways")
          .containsExactlyElementsOf(pidsWithRole(processes, "register", "gateway"));
      List<JsonObject> cells = page.getJsonArray("cells").stream().map(JsonObject.class::cast).toList();
      assertThat(cells).hasSize(4 * 3);
      List<JsonObject> linkCells = cells.stream().filter(c -> c.getString("state").equals("link")).toList();
      assertThat(linkCells).extracting(c -> c.getString("client") + ">" + c.getString("server"))
          .as("one cell per link of the API").containsExactlyInAnyOrderElementsOf(api.getJsonArray("links").stream()
              .map(o -> ((JsonObject) o).getLong("client_pid") + ">" + ((JsonObject) o).getLong("server_pid")).toList());
      assertThat(linkCells).allSatisfy(c -> {
        assertThat(c.getString("links")).isEqualTo("1");
        assertThat(Long.parseLong(c.getString("rttUs"))).isPositive();
        assertThat(c.getString("reconnects")).isEqualTo("0");
        assertThat(c.getBoolean("flagged")).isFalse();
      });
      JsonObject missing = api.getJsonArray("missing_links").getJsonObject(0);
      assertThat(missing.getLong("client_pid")).isEqualTo(lonely);
      List<JsonObject> flagged = cells.stream().filter(c -> c.getString("state").equals("missing")).toList();
      assertThat(flagged).extracting(c -> c.getString("client") + ">" + c.getString("server"))
          .containsExactly(lonely + ">" + missing.getLong("server_pid"));
      assertThat(flagged.getFirst().getBoolean("flagged")).isTrue();
      assertThat(flagged.getFirst().getString("text")).contains("MISSING");
      assertThat(cells).filteredOn(c -> c.getBoolean("flagged")).hasSize(1);
      assertThat(row(page.getJsonArray("processes"), String.valueOf(lonely)).getString("text")).contains(lonelyName);
      assertThat(topo.getInteger("markup")).as("elements made from a process title").isZero();
      assertThat(agent.terminate(15_000)).isZero();
    } finally {
      for (Socket c : clients) {
        c.close();
      }
    }
  }

  /** Until /api/topology has one app of that "clients/links/missing" shape. */
  private static void awaitTopology(int http, String shape) throws InterruptedException {
    Await.until(WAIT, "clients/links/missing in /api/topology", () -> {
      JsonArray apps = CliRun.json(http, "/api/topology").getJsonArray("apps");
      return apps.size() == 1 ? topologyShape(apps.getJsonObject(0)) : apps.size() + " apps";
    }, shape);
  }

  /** The pids of the processes with one of those roles, as strings, in the API's order. */
  private static List<String> pidsWithRole(List<JsonObject> processes, String... roles) {
    return processes.stream().filter(n -> List.of(roles).contains(n.getString("role")))
        .map(n -> String.valueOf(n.getLong("pid"))).toList();
  }

  /** "clients/links/missing" of one app of /api/topology. */
  private static String topologyShape(JsonObject app) {
    long clients = app.getJsonArray("processes").stream().map(JsonObject.class::cast)
        .mapToLong(n -> n.getLong("clients", 0L)).sum();
    return clients + "/" + app.getJsonArray("links").size() + "/" + app.getJsonArray("missing_links").size();
  }
}
