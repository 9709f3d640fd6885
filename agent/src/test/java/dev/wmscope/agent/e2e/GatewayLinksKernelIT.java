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
    int register = WorkermanStandin.freePort();
    int gateway = WorkermanStandin.freePort();
    int inner = WorkermanStandin.freePort();
    int inner2 = inner + 1;
    String reg = "127.0.0.1:" + register;
    var app = WorkermanStandin.create(dir, List.of(
        WorkermanStandin.worker("ChatRegister", "text://127.0.0.1:" + register, 1, false),
        WorkermanStandin.worker("ChatGateway", "websocket://127.0.0.1:" + gateway, 2, false)
            .put("inner", "text://127.0.0.1:" + inner).put("links", new JsonArray().add(reg)),
        new JsonObject().put("name", "ChatBusinessWorker").put("protocol", "none").put("count", 2)
            .put("links", new JsonArray().add(reg).add("127.0.0.1:" + inner).add("127.0.0.1:" + inner2))));
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
        assertThat(agent.terminate(15_000)).isZero();
      } finally {
        if (agent != null) {
          agent.close();
        }
      }
    }
  }

  private static Map<String, Set<Long>> pidsByName(WorkermanStandin app) {
    return app.masterJson().orElseThrow().getJsonArray("workers").stream().map(o -> (JsonObject) o)
        .collect(Collectors.groupingBy(w -> w.getString("name"), Collectors.mapping(w -> w.getLong("pid"),
            Collectors.toSet())));
  }

  private static String owner(Map<String, Set<Long>> pids, long pid) {
    return pids.entrySet().stream().filter(e -> e.getValue().contains(pid)).map(Map.Entry::getKey).findFirst()
        .orElse("pid " + pid);
  }
}
