package dev.wmscope.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.WorkermanStandin;
import dev.wmscope.loader.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GatewayWorker's internal links on both ends, whatever the start order. A stand-in app shaped
 * like GatewayWorker: a Register, two Gateways (a WebSocket listener in their title, an inner
 * listener on lanPort = startPort + id in none, a link to the Register each) and two
 * BusinessWorkers (no listener; a link to the Register and to every Gateway's inner port). Its 8
 * links are made within milliseconds of its start, before discovery watches anything: started
 * before the agent, every link is adopted on both ends; started after it, the same. Each of the
 * 16 ends is tracked exactly once, marked internal, with the right side and owner.
 */
@KernelTest
class GatewayLinksKernelIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @ParameterizedTest(name = "app started {0} the agent")
  @ValueSource(strings = {"before", "after"})
  void everyLinkIsTrackedOnBothEndsAndInternal(String order, @TempDir Path dir) throws Exception {
    Ports p = Ports.pick();
    int register = p.register();
    int inner = p.inner();
    int inner2 = inner + 1;
    var app = WorkermanStandin.create(dir, List.of(p.register("ChatRegister"), p.gateways("ChatGateway", 2),
        p.business("ChatBusinessWorker", 2, inner, inner2)));
    try (app) {
      AgentProcess agent = null;
      try {
        if (order.equals("after")) {
          agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"), Map.of());
          agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
        }
        app.start(false);
        app.awaitWorkers(5, Set.of(), WAIT);
        Thread.sleep(1500); // every link is up (the links retry once a second)
        if (agent == null) {
          agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"), Map.of());
        }
        int api = agent.httpPort(30_000);
        Map<String, Set<Long>> pids = pidsByName(app);
        Set<Integer> linkPorts = Set.of(register, inner, inner2);
        AgentProcess a = agent;
        JsonArray conns = WorkermanStandin.await(WAIT, "16 link ends tracked", () -> {
          JsonArray c = CliRun.json(api, "/api/connections?limit=1000").getJsonArray("connections");
          long ends = c.stream().map(o -> (JsonObject) o).filter(o -> linkPorts.contains(o.getInteger("local_port"))
              || linkPorts.contains(o.getInteger("peer_port"))).count();
          return ends >= 16 && c.stream().map(o -> (JsonObject) o).allMatch(o -> o.getLong("pid") > 0) ? c : null;
        });
        List<JsonObject> ends = conns.stream().map(o -> (JsonObject) o)
            .filter(o -> linkPorts.contains(o.getInteger("local_port")) || linkPorts.contains(o.getInteger("peer_port")))
            .toList();
        assertThat(ends).as("each end once: %s", a.stderr()).hasSize(16);
        assertThat(ends).allSatisfy(e -> assertThat(e.getBoolean("internal")).as("%s", e).isTrue());
        List<JsonObject> clients = ends.stream().filter(e -> e.getString("side").equals("client")).toList();
        List<JsonObject> servers = ends.stream().filter(e -> e.getString("side").equals("server")).toList();
        assertThat(clients).hasSize(8);
        assertThat(servers).hasSize(8);
        // the client ends: 2 gateways -> register, 2 business workers -> register and each inner port
        assertThat(clients).extracting(e -> owner(pids, e.getLong("pid")) + "->" + e.getInteger("peer_port"))
            .containsExactlyInAnyOrder(
                "ChatGateway->" + register, "ChatGateway->" + register,
                "ChatBusinessWorker->" + register, "ChatBusinessWorker->" + register,
                "ChatBusinessWorker->" + inner, "ChatBusinessWorker->" + inner,
                "ChatBusinessWorker->" + inner2, "ChatBusinessWorker->" + inner2);
        assertThat(clients.stream().filter(e -> owner(pids, e.getLong("pid")).equals("ChatBusinessWorker"))
            .map(e -> e.getLong("pid")).collect(Collectors.toSet())).isEqualTo(pids.get("ChatBusinessWorker"));
        // the server ends: the register's 4, each gateway's 2 on its own inner port
        assertThat(servers).extracting(e -> owner(pids, e.getLong("pid")) + "@" + e.getInteger("local_port"))
            .containsExactlyInAnyOrder(
                "ChatRegister@" + register, "ChatRegister@" + register, "ChatRegister@" + register,
                "ChatRegister@" + register, "ChatGateway@" + inner, "ChatGateway@" + inner,
                "ChatGateway@" + inner2, "ChatGateway@" + inner2);
        Map<Long, Set<Integer>> innerByGateway = servers.stream()
            .filter(e -> e.getInteger("local_port") != register)
            .collect(Collectors.groupingBy(e -> e.getLong("pid"), Collectors.mapping(e -> e.getInteger("local_port"),
                Collectors.toSet())));
        assertThat(innerByGateway).as("one inner port per gateway process").hasSize(2)
            .allSatisfy((pid, ports) -> assertThat(ports).hasSize(1));
        // and the two ends of each link agree: a client's local port is a server's peer port
        Set<Integer> clientPorts = new HashSet<>(clients.stream().map(e -> e.getInteger("local_port")).toList());
        assertThat(servers).allSatisfy(e -> assertThat(clientPorts).contains(e.getInteger("peer_port")));
        // no link was ever missing: a link's client end is adopted in the live read that finds it,
        // not a read later, so the topology never sees a server end alone for two polls
        Thread.sleep(1000); // five more polls
        assertThat(agent.stderr()).as("no false 'missing link' at the app's start")
            .noneMatch(l -> l.contains("has no link") && l.contains(dir.toString()));
        assertThat(agent.terminate(15_000)).isZero();
      } finally {
        if (agent != null) {
          agent.close();
        }
      }
    }
  }

  /**
   * The topology: roles (the BusinessWorker is named "ChatBusiness", so its role comes from what it
   * does), clients per gateway, every link, and a link the convention expects that is missing (a
   * BusinessWorker linked to one Gateway of two), in /api/topology, the log, `wmscope status
   * --topology` and the metrics.
   */
  @org.junit.jupiter.api.Test
  void theTopologyShowsRolesClientsLinksAndAMissingLink(@TempDir Path dir) throws Exception {
    Ports p = Ports.pick();
    int gateway = p.gateway();
    int inner = p.inner();
    int inner2 = inner + 1;
    var app = p.withALonelyBusinessWorker(dir, "Lonely");
    try (app; var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
        Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      app.start(false);
      app.awaitWorkers(5, Set.of(), WAIT);
      int api = agent.httpPort(30_000);
      Map<String, Set<Long>> pids = pidsByName(app);
      long lonely = pids.get("Lonely").iterator().next();
      // 3 WebSocket clients on the gateways' client port, once discovery watches it (the topology names the
      // gateways): a client that connected before would be adopted, open but not opened while watched
      awaitTopology(api, "both gateways known", t -> t.getJsonArray("processes").stream().map(o -> (JsonObject) o)
          .filter(n -> n.getString("role").equals("gateway")).count() == 2);
      List<java.net.Socket> clients = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          clients.add(new java.net.Socket("127.0.0.1", gateway));
        }
        var last = new java.util.concurrent.atomic.AtomicReference<JsonObject>();
        JsonObject topo;
        try {
          topo = WorkermanStandin.await(WAIT, "the topology with 3 clients and the missing link", () -> {
          JsonObject doc = CliRun.json(api, "/api/topology");
          last.set(doc);
          JsonArray apps = doc.getJsonArray("apps");
          if (apps.size() != 1) {
            return null;
          }
          JsonObject a = apps.getJsonObject(0);
          long clientsNow = a.getJsonArray("processes").stream().map(o -> (JsonObject) o)
              .mapToLong(n -> n.getLong("clients", 0L)).sum();
          return clientsNow == 3 && a.getJsonArray("links").size() == 7 && a.getJsonArray("missing_links").size() == 1
              ? a : null;
          });
        } catch (IllegalStateException e) {
          throw new AssertionError(e.getMessage() + "; last /api/topology: " + last.get() + "; connections: "
              + CliRun.json(api, "/api/connections?port=" + gateway).encode(), e);
        }
        var nodes = topo.getJsonArray("processes").stream().map(o -> (JsonObject) o).toList();
        assertThat(nodes).extracting(n -> n.getString("name") + ":" + n.getString("role")).containsExactly(
            "ChatRegister:register", "ChatGateway:gateway", "ChatGateway:gateway", "ChatBusiness:business_worker",
            "Lonely:business_worker");
        assertThat(nodes).filteredOn(n -> n.getString("role").equals("gateway"))
            .extracting(n -> n.getJsonArray("inner_ports").getInteger(0))
            .containsExactlyInAnyOrder(inner, inner2);
        // client connections opened: the 3 clients and none of the gateways' internal ends (the business
        // workers' links accepted on their lan port, their own link to the register); none closed, so as many
        // as each holds
        List<JsonObject> gws = nodes.stream().filter(n -> n.getString("role").equals("gateway")).toList();
        assertThat(gws).allSatisfy(g -> assertThat(g.getLong("clients_opened")).as("%s", g)
            .isEqualTo(g.getLong("clients")));
        assertThat(gws.stream().mapToDouble(g -> g.getDouble("clients_opened_per_s")).sum())
            .as("opened/s of the 3 clients just opened: %s", topo).isPositive();
        var links = topo.getJsonArray("links").stream().map(o -> (JsonObject) o).toList();
        assertThat(links).extracting(l -> l.getString("client_role") + ">" + l.getString("server_role"))
            .containsExactlyInAnyOrder("gateway>register", "gateway>register", "business_worker>register",
                "business_worker>register", "business_worker>gateway", "business_worker>gateway",
                "business_worker>gateway");
        assertThat(links).allSatisfy(l -> {
          assertThat(l.getLong("rtt_us")).isPositive();
          assertThat(l.getLong("reconnects")).isZero();
        });
        long gatewayOnInner2 = nodes.stream().filter(n -> n.getString("role").equals("gateway")
            && n.getJsonArray("inner_ports").getInteger(0) == inner2).findFirst().orElseThrow().getLong("pid");
        JsonObject missing = topo.getJsonArray("missing_links").getJsonObject(0);
        assertThat(missing.getLong("client_pid")).isEqualTo(lonely);
        assertThat(missing.getLong("server_pid")).isEqualTo(gatewayOnInner2);
        agent.awaitStderr(l -> l.contains("Lonely[" + lonely + "] has no link to ChatGateway[" + gatewayOnInner2 + "]"),
            10_000);
        var status = CliRun.wmscope(List.of("status", "--topology", "--http-address", "127.0.0.1:" + api), Map.of(),
            Duration.ofSeconds(30));
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.stdout()).contains("GATEWAYWORKER", "opened/s").contains("MISSING: business_worker "
            + lonely + " has no link to gateway " + gatewayOnInner2);
        String metrics = CliRun.get(api, "/metrics").body();
        assertThat(metrics.lines().filter(l -> l.startsWith("workerman_gateway_clients{"))
            .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum())
            .as("the shared listener spreads the 3 clients over the 2 gateways as it likes").isEqualTo(3.0);
        assertThat(metrics).containsPattern("workerman_link_missing\\{[^}]*workerman_link_client_role=\"business_worker\""
                + "[^}]*workerman_link_server_role=\"gateway\"[^}]*\\} 1")
            .contains("workerman_link_rtt_seconds{").contains("workerman_link_backlog_bytes{");
      } finally {
        for (java.net.Socket c : clients) {
          c.close();
        }
      }
      assertThat(agent.terminate(15_000)).isZero();
    }
  }

  /**
   * A killed BusinessWorker: the master forks a replacement that links only after 2 s (a slow
   * onWorkerStart), and for that time its links to both Gateways and the Register are missing
   * (in /api/topology and one log line each way); the dead one is never reported. Then a killed
   * Gateway: its replacement listens on the same lan port and both BusinessWorkers reconnect to
   * it: one reconnect each on that link, two on the counter; the replacement's own first link to
   * the Register is not one.
   */
  @org.junit.jupiter.api.Test
  void aKilledWorkerIsAMissingLinkUntilItsReplacementLinksAndAKilledGatewayIsReconnectedTo(@TempDir Path dir)
      throws Exception {
    Ports p = Ports.pick();
    int inner = p.inner();
    var app = WorkermanStandin.create(dir, List.of(p.register("ChatRegister"), p.gateways("ChatGateway", 2),
        p.business("ChatBusinessWorker", 2, inner, inner + 1).put("link_delay_ms", 2000)));
    try (app; var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
        Map.of())) {
      agent.awaitStderr(l -> l.contains("attached sock_ops"), 30_000);
      app.start(false);
      List<Integer> first = app.awaitWorkers(5, Set.of(), WAIT);
      int api = agent.httpPort(30_000);
      awaitTopology(api, "all 8 links up", t -> t.getJsonArray("links").size() == 8
          && t.getJsonArray("missing_links").isEmpty());
      Map<String, Set<Long>> pids = pidsByName(app);
      long killed = pids.get("ChatBusinessWorker").iterator().next();
      ProcessHandle.of(killed).orElseThrow().destroyForcibly();
      Set<Integer> gone = new HashSet<>(Set.of((int) killed));
      long replacement = app.awaitWorkers(5, gone, WAIT).stream().filter(pid -> !first.contains(pid)).findFirst()
          .orElseThrow();
      JsonObject during = awaitTopology(api, "the replacement's 3 links missing", t -> t.getJsonArray("missing_links")
          .size() == 3);
      assertThat(during.getJsonArray("missing_links").stream().map(o -> (JsonObject) o))
          .extracting(m -> m.getLong("client_pid") + ">" + m.getString("server_role"))
          .containsExactlyInAnyOrder(replacement + ">gateway", replacement + ">gateway", replacement + ">register");
      agent.awaitStderr(l -> l.contains("ChatBusinessWorker[" + replacement + "] has no link to ChatGateway["), 10_000);
      JsonObject after = awaitTopology(api, "the replacement linked", t -> t.getJsonArray("links").size() == 8
          && t.getJsonArray("missing_links").isEmpty());
      agent.awaitStderr(l -> l.contains("ChatBusinessWorker[" + replacement + "] linked to ChatRegister["), 10_000);
      assertThat(agent.stderr()).as("the dead worker is not missing anything")
          .doesNotContain("ChatBusinessWorker[" + killed + "]");
      assertThat(after.getJsonArray("links").stream().map(o -> (JsonObject) o))
          .as("a new process's first links are not reconnects")
          .allSatisfy(l -> assertThat(l.getLong("reconnects")).isZero());

      Set<Long> gateways = pidsByName(app).get("ChatGateway");
      long gateway = gateways.iterator().next();
      ProcessHandle.of(gateway).orElseThrow().destroyForcibly();
      gone.add((int) gateway);
      app.awaitWorkers(5, gone, WAIT);
      long newGateway = pidsByName(app).get("ChatGateway").stream().filter(pid -> !gateways.contains(pid))
          .findFirst().orElseThrow();
      JsonObject relinked = awaitTopology(api, "both business workers reconnected to the new gateway", t ->
          t.getJsonArray("links").size() == 8 && t.getJsonArray("missing_links").isEmpty()
              && t.getJsonArray("links").stream().map(o -> (JsonObject) o)
                  .filter(l -> l.getLong("server_pid") == newGateway).count() == 2);
      assertThat(relinked.getJsonArray("links").stream().map(o -> (JsonObject) o))
          .extracting(l -> l.getString("client_role") + ">" + (l.getLong("server_pid") == newGateway ? "new " : "")
              + l.getString("server_role") + ":" + l.getLong("reconnects"))
          .containsExactlyInAnyOrder("gateway>register:0", "gateway>register:0", "business_worker>register:0",
              "business_worker>register:0", "business_worker>gateway:0", "business_worker>gateway:0",
              "business_worker>new gateway:1", "business_worker>new gateway:1");
      String metrics = CliRun.get(api, "/metrics").body();
      assertThat(metrics).containsPattern("workerman_link_reconnects_total\\{[^}]*workerman_link_client_role="
          + "\"business_worker\"[^}]*workerman_link_server_role=\"gateway\"[^}]*\\} 2(\\.0)?\\b");
      assertThat(metrics).doesNotContainPattern("workerman_link_reconnects_total\\{[^}]*workerman_link_client_role="
          + "\"gateway\"");
      assertThat(agent.terminate(15_000)).isZero();
    }
  }

  /**
   * A BusinessWorker links to a Gateway right after its fork, often before discovery watches it:
   * the Gateway's end opens first, as client traffic, and its client end is adopted later. Made
   * deterministic here: a PHP process links to the Gateway's inner port with a title discovery
   * ignores, the test sees the server end counted as client traffic, and only then does the
   * process take a worker title (an orphan worker, watched). Its client end is adopted and the
   * server end turns internal: in the API, in the active gauge (moved, not counted twice), and
   * at close (the gauge back to zero in both series).
   */
  @org.junit.jupiter.api.Test
  void aLinkWhoseClientIsWatchedOnlyAfterItConnectedTurnsInternal(@TempDir Path dir) throws Exception {
    Ports p = Ports.pick();
    int inner = p.inner();
    var app = WorkermanStandin.create(dir, List.of(p.register("ChatRegister"), p.gateways("ChatGateway", 1)));
    Path script = dir.resolve("late_business.php");
    java.nio.file.Files.writeString(script, """
        <?php
        // links first, then takes a Workerman worker title when the test says so (a line on stdin)
        $s = stream_socket_client('tcp://127.0.0.1:' . $argv[1], $errno, $error, 5);
        if (!$s) { fwrite(STDERR, "connect: $error\n"); exit(1); }
        fwrite($s, "hello\n");
        $local = stream_socket_get_name($s, false);
        echo substr($local, strrpos($local, ':') + 1), "\n";
        fgets(STDIN);
        cli_set_process_title('WorkerMan: worker process  LateBusiness none');
        echo "titled\n";
        fgets(STDIN); // holds the link until the test closes stdin
        """);
    try (app; var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
        Map.of())) {
      app.start(false);
      app.awaitWorkers(2, Set.of(), WAIT);
      agent.awaitStderr(l -> l.contains("watched ports now") && l.contains(String.valueOf(inner)), 30_000);
      int api = agent.httpPort(30_000);
      Process php = new ProcessBuilder("php", script.toString(), Integer.toString(inner))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(php.getInputStream(),
            java.nio.charset.StandardCharsets.UTF_8));
        int clientPort = Integer.parseInt(out.readLine().strip());
        JsonObject before = WorkermanStandin.await(WAIT, "the link's server end", () -> linkEnd(api, "server", inner,
            clientPort));
        assertThat(before.getBoolean("internal")).as("opened before its client was watched: %s", before).isFalse();
        assertThat(activeOnPort(api, inner, false)).isEqualTo(1);

        php.getOutputStream().write('\n');
        php.getOutputStream().flush();
        assertThat(out.readLine()).isEqualTo("titled");
        JsonObject client = WorkermanStandin.await(WAIT, "the link's client end adopted", () -> linkEnd(api, "client",
            inner, clientPort));
        assertThat(client.getLong("pid")).isEqualTo(php.pid());
        assertThat(client.getBoolean("internal")).isTrue();
        JsonObject after = WorkermanStandin.await(WAIT, "the server end internal", () -> {
          JsonObject end = linkEnd(api, "server", inner, clientPort);
          return end != null && end.getBoolean("internal") ? end : null;
        });
        assertThat(after.getLong("pid")).isEqualTo(before.getLong("pid"));
        WorkermanStandin.await(WAIT, "the active gauge moved", () -> activeOnPort(api, inner, true) == 1 ? true : null);
        assertThat(activeOnPort(api, inner, false)).as("not counted twice").isZero();

        php.getOutputStream().close();
        assertThat(php.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        WorkermanStandin.await(WAIT, "the link closed", () -> linkEnd(api, "server", inner, clientPort) == null
            ? true : null);
        WorkermanStandin.await(WAIT, "both series back to zero", () -> activeOnPort(api, inner, true) == 0
            && activeOnPort(api, inner, false) == 0 ? true : null);
      } finally {
        php.destroyForcibly();
      }
      assertThat(agent.terminate(15_000)).isZero();
    }
  }

  /**
   * The other order: a watched process links to a port that is not watched yet (a BusinessWorker
   * reconnects to a restarted Gateway's inner port within a discovery interval of its listen),
   * so its client end opens as client traffic; once the listener's process is a watched worker,
   * the server end is adopted, internal, and the client end turns internal with it.
   */
  @org.junit.jupiter.api.Test
  void aLinkToAPortWatchedOnlyAfterItConnectedTurnsInternal(@TempDir Path dir) throws Exception {
    int port = WorkermanStandin.freePort();
    Path listener = dir.resolve("late_gateway.php");
    java.nio.file.Files.writeString(listener, """
        <?php
        // listens and accepts first, takes a Workerman worker title when the test says so
        $srv = stream_socket_server('tcp://127.0.0.1:' . $argv[1], $errno, $error);
        if (!$srv) { fwrite(STDERR, "listen: $error\n"); exit(1); }
        echo "listening\n";
        $c = stream_socket_accept($srv, 20);
        echo "accepted\n";
        fgets(STDIN);
        cli_set_process_title('WorkerMan: worker process  LateGateway text://127.0.0.1:' . $argv[1]);
        echo "titled\n";
        fgets(STDIN); // holds the link until the test closes stdin
        """);
    Path client = dir.resolve("early_business.php");
    java.nio.file.Files.writeString(client, """
        <?php
        // a watched worker from the start; links when the test says so
        cli_set_process_title('WorkerMan: worker process  EarlyBusiness none');
        echo "titled\n";
        fgets(STDIN);
        $s = stream_socket_client('tcp://127.0.0.1:' . $argv[1], $errno, $error, 5);
        if (!$s) { fwrite(STDERR, "connect: $error\n"); exit(1); }
        $local = stream_socket_get_name($s, false);
        echo substr($local, strrpos($local, ':') + 1), "\n";
        fgets(STDIN);
        """);
    try (var agent = new AgentProcess(List.of("run", "--discovery-interval", "200ms", "--poll-interval", "200ms"),
        Map.of())) {
      int api = agent.httpPort(30_000);
      Process server = new ProcessBuilder("php", listener.toString(), Integer.toString(port))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Process business = new ProcessBuilder("php", client.toString(), Integer.toString(port))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        var serverOut = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
            java.nio.charset.StandardCharsets.UTF_8));
        var businessOut = new java.io.BufferedReader(new java.io.InputStreamReader(business.getInputStream(),
            java.nio.charset.StandardCharsets.UTF_8));
        assertThat(serverOut.readLine()).isEqualTo("listening");
        assertThat(businessOut.readLine()).isEqualTo("titled");
        agent.awaitStderr(l -> l.contains("watched pids now") && l.contains(String.valueOf(business.pid())), 30_000);
        business.getOutputStream().write('\n');
        business.getOutputStream().flush();
        int clientPort = Integer.parseInt(businessOut.readLine().strip());
        assertThat(serverOut.readLine()).isEqualTo("accepted");
        JsonObject before = WorkermanStandin.await(WAIT, "the link's client end", () -> linkEnd(api, "client", port,
            clientPort));
        assertThat(before.getBoolean("internal")).as("opened to a port not watched: %s", before).isFalse();
        assertThat(before.getLong("pid")).isEqualTo(business.pid());

        server.getOutputStream().write('\n');
        server.getOutputStream().flush();
        assertThat(serverOut.readLine()).isEqualTo("titled");
        JsonObject serverEnd = WorkermanStandin.await(WAIT, "the link's server end adopted", () -> linkEnd(api,
            "server", port, clientPort));
        assertThat(serverEnd.getBoolean("internal")).isTrue();
        assertThat(serverEnd.getLong("pid")).isEqualTo(server.pid());
        JsonObject after = WorkermanStandin.await(WAIT, "the client end internal", () -> {
          JsonObject end = linkEnd(api, "client", port, clientPort);
          return end != null && end.getBoolean("internal") ? end : null;
        });
        assertThat(after.getLong("pid")).isEqualTo(business.pid());
        WorkermanStandin.await(WAIT, "the client side's active gauge moved", () ->
            active(api, port, "client", true) == 1 && active(api, port, "client", false) == 0 ? true : null);

        business.getOutputStream().close();
        server.getOutputStream().close();
        assertThat(business.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        WorkermanStandin.await(WAIT, "both sides' series back to zero", () -> active(api, port, "client", true) == 0
            && active(api, port, "client", false) == 0 && active(api, port, "server", true) == 0 ? true : null);
      } finally {
        business.destroyForcibly();
        server.destroyForcibly();
      }
      assertThat(agent.terminate(15_000)).isZero();
    }
  }

  /** The server or client end of a link to {@code port} from {@code clientPort}, or null. */
  private static JsonObject linkEnd(int api, String side, int port, int clientPort) {
    return CliRun.json(api, "/api/connections?limit=1000&port=" + port).getJsonArray("connections").stream()
        .map(o -> (JsonObject) o).filter(c -> c.getString("side").equals(side)
            && (side.equals("server") ? c.getInteger("peer_port") : c.getInteger("local_port")) == clientPort)
        .findFirst().orElse(null);
  }

  /** wmscope_connection_active of the server ends on {@code port}, internal or not (0 without a series). */
  private static long activeOnPort(int api, int port, boolean internal) {
    return active(api, port, "server", internal);
  }

  /** wmscope_connection_active of one side of the connections to {@code port} (0 without a series). */
  private static long active(int api, int port, String side, boolean internal) {
    String metrics;
    try {
      metrics = CliRun.get(api, "/metrics").body();
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
    return metrics.lines()
        .filter(l -> l.startsWith("wmscope_connection_active{") && l.contains("server_port=\"" + port + "\"")
            && l.contains("wmscope_connection_side=\"" + side + "\"")
            && l.contains("wmscope_connection_internal=\"" + internal + "\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** The one GatewayWorker app of /api/topology once {@code done} holds, or an error with the last document. */
  private static JsonObject awaitTopology(int api, String what, java.util.function.Predicate<JsonObject> done)
      throws InterruptedException {
    var last = new java.util.concurrent.atomic.AtomicReference<JsonObject>();
    try {
      return WorkermanStandin.await(WAIT, what, () -> {
        JsonObject doc = CliRun.json(api, "/api/topology");
        last.set(doc);
        JsonArray apps = doc.getJsonArray("apps");
        return apps.size() == 1 && done.test(apps.getJsonObject(0)) ? apps.getJsonObject(0) : null;
      });
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage() + "; last /api/topology: " + last.get(), e);
    }
  }

  /**
   * The ports of a GatewayWorker-shaped stand-in app and its worker definitions: a Register on
   * {@code register}, Gateways on {@code gateway} with inner ports from {@code inner} (lanPort =
   * startPort + id) linked to the Register, BusinessWorkers linked to the Register and to the
   * inner ports given.
   */
  record Ports(int register, int gateway, int inner) {
    static Ports pick() throws java.io.IOException {
      return new Ports(WorkermanStandin.freePort(), WorkermanStandin.freePort(), freePortPair());
    }

    JsonObject register(String name) {
      return WorkermanStandin.worker(name, "text://127.0.0.1:" + register, 1, false);
    }

    JsonObject gateways(String name, int count) {
      return WorkermanStandin.worker(name, "websocket://127.0.0.1:" + gateway, count, false)
          .put("inner", "text://127.0.0.1:" + inner).put("links", new JsonArray().add("127.0.0.1:" + register));
    }

    /**
     * A Register, two Gateways, "ChatBusiness" (a name that says nothing of its role) linked to
     * both and a BusinessWorker named {@code lonely} linked to the first only: 7 links, 1 missing.
     */
    WorkermanStandin withALonelyBusinessWorker(Path dir, String lonely) {
      return WorkermanStandin.create(dir, List.of(register("ChatRegister"), gateways("ChatGateway", 2),
          business("ChatBusiness", 1, inner, inner + 1), business(lonely, 1, inner)));
    }

    JsonObject business(String name, int count, int... innerPorts) {
      JsonArray links = new JsonArray().add("127.0.0.1:" + register);
      for (int port : innerPorts) {
        links.add("127.0.0.1:" + port);
      }
      return new JsonObject().put("name", name).put("protocol", "none").put("count", count).put("links", links);
    }
  }

  /** A port P such that P and P + 1 are both free on loopback (the gateways listen on P + id). */
  private static int freePortPair() throws java.io.IOException {
    for (int i = 0; i < 50; i++) {
      int p = WorkermanStandin.freePort();
      if (p >= 65535) {
        continue;
      }
      try (var a = new java.net.ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress());
          var b = new java.net.ServerSocket(p + 1, 1, java.net.InetAddress.getLoopbackAddress())) {
        return p;
      } catch (java.io.IOException taken) {
        // one of the two is in use: try another
      }
    }
    throw new java.io.IOException("no two free consecutive loopback ports in 50 tries");
  }

  static Map<String, Set<Long>> pidsByName(WorkermanStandin app) {
    return app.masterJson().orElseThrow().getJsonArray("workers").stream().map(o -> (JsonObject) o)
        .collect(Collectors.groupingBy(w -> w.getString("name"), Collectors.mapping(w -> w.getLong("pid"),
            Collectors.toSet())));
  }

  private static String owner(Map<String, Set<Long>> pids, long pid) {
    return pids.entrySet().stream().filter(e -> e.getValue().contains(pid)).map(Map.Entry::getKey).findFirst()
        .orElse("pid " + pid);
  }
}
