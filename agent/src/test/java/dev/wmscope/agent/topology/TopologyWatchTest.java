package dev.wmscope.agent.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.ListenUri;
import dev.wmscope.agent.discovery.WorkermanRole;
import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.probe.TrafficStats;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.WorkerIdentity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The topology's roles, missing links and reconnects from hand-built views of one GatewayWorker
 * app: a Register (pid 10, port 1236), a Gateway (client port 7272, lan port 2900) and a
 * BusinessWorker, each link tracked on both ends.
 */
class TopologyWatchTest {
  private static final long MASTER = 1;
  private static final int REGISTER_PORT = 1236;
  private static final int LAN_PORT = 2900;

  private final Map<Long, WorkerIdentity> dir = new HashMap<>();
  private final List<LiveState.OpenConn> conns = new ArrayList<>();
  private final List<String> reconnected = new ArrayList<>();
  private final AtomicLong cookies = new AtomicLong(100);
  private int nextClientPort = 50_000;
  private final TopologyWatch watch = new TopologyWatch(
      () -> new LiveState.View(0, List.copyOf(conns), List.of(), List.of(), List.of(), Map.of(),
          TrafficStats.Snapshot.EMPTY),
      () -> Map.copyOf(dir), (c, s) -> reconnected.add(c + ">" + s));

  @Test
  void rolesLinksAndNothingMissingWhenEveryLinkIsUp() {
    app(20, 30);
    watch.tick();
    GatewayTopology.App app = watch.apps().getFirst();
    assertThat(app.nodes()).extracting(n -> n.pid() + ":" + n.role())
        .containsExactly("10:register", "20:gateway", "30:business_worker");
    assertThat(app.links()).extracting(l -> l.clientPid() + ">" + l.serverPid())
        .containsExactly("20>10", "30>10", "30>20");
    assertThat(app.missing()).isEmpty();
    assertThat(app.links()).allSatisfy(l -> assertThat(watch.reconnects(l)).isZero());
  }

  @Test
  void rolesFromWhatTheyDoWhenNamesSayNothing() {
    dir.put(10L, worker("Hub", "text://127.0.0.1:" + REGISTER_PORT));
    dir.put(20L, worker("Chat", "websocket://127.0.0.1:7272"));
    dir.put(30L, worker("Logic", "none"));
    link(20, 10, REGISTER_PORT);
    link(30, 10, REGISTER_PORT);
    link(30, 20, LAN_PORT);
    watch.tick();
    assertThat(watch.apps().getFirst().nodes()).extracting(n -> n.pid() + ":" + n.role())
        .containsExactly("10:register", "20:gateway", "30:business_worker");
  }

  @Test
  void aReplacedBusinessWorkerIsMissingAfterTwoTicksUntilItLinksAndNeverCountsAReconnect() {
    app(20, 30);
    watch.tick();
    // the business worker is killed: its links go with it, its replacement starts without links
    kill(30);
    dir.put(31L, worker("ChatBusinessWorker", "none"));
    watch.tick();
    assertThat(watch.reportedMissing(31, 20)).as("one tick is a start, not a missing link").isFalse();
    watch.tick();
    assertThat(watch.reportedMissing(31, 20)).isTrue();
    assertThat(watch.reportedMissing(31, 10)).isTrue();
    assertThat(watch.reportedMissing(30, 20)).as("the dead one is not missing anything").isFalse();
    link(31, 20, LAN_PORT);
    link(31, 10, REGISTER_PORT);
    watch.tick();
    assertThat(watch.reportedMissing(31, 20)).isFalse();
    assertThat(watch.reportedMissing(31, 10)).isFalse();
    assertThat(watch.apps().getFirst().links()).allSatisfy(l -> assertThat(watch.reconnects(l)).isZero());
    assertThat(reconnected).as("a new process's first links are not reconnects").isEmpty();
  }

  @Test
  void aRestartedGatewayCountsOneReconnectPerClientOfItsLanPort() {
    app(20, 30);
    watch.tick();
    // the gateway is killed and re-forked on the same lan port; the business worker reconnects
    kill(20);
    dir.put(21L, worker("ChatGateway", "websocket://127.0.0.1:7272"));
    watch.tick();
    link(21, 10, REGISTER_PORT);
    link(30, 21, LAN_PORT);
    watch.tick();
    GatewayTopology.App app = watch.apps().getFirst();
    assertThat(app.missing()).isEmpty();
    Map<String, Long> byLink = new HashMap<>();
    app.links().forEach(l -> byLink.put(l.clientPid() + ">" + l.serverPid(), watch.reconnects(l)));
    assertThat(byLink).containsExactlyInAnyOrderEntriesOf(Map.of("21>10", 0L, "30>10", 0L, "30>21", 1L));
    assertThat(reconnected).containsExactly("business_worker>gateway");
    // the same connection seen again is not another reconnect
    watch.tick();
    assertThat(reconnected).hasSize(1);
  }

  /** A Register 10, a Gateway and a BusinessWorker, all linked. */
  private void app(long gateway, long business) {
    dir.put(10L, worker("ChatRegister", "text://127.0.0.1:" + REGISTER_PORT));
    dir.put(gateway, worker("ChatGateway", "websocket://127.0.0.1:7272"));
    dir.put(business, worker("ChatBusinessWorker", "none"));
    link(gateway, 10, REGISTER_PORT);
    link(business, 10, REGISTER_PORT);
    link(business, gateway, LAN_PORT);
  }

  /** A link from client to server's port, both ends tracked and internal. */
  private void link(long client, long server, int port) {
    int clientPort = nextClientPort++;
    conns.add(open(ConnectionEvent.Side.CLIENT, clientPort, port, client));
    conns.add(open(ConnectionEvent.Side.SERVER, port, clientPort, server));
  }

  /** The process exits: it leaves the directory, its links close on both ends. */
  private void kill(long pid) {
    dir.remove(pid);
    List<LiveState.OpenConn> own = conns.stream().filter(c -> c.event().pid() == pid).toList();
    conns.removeIf(c -> own.stream().anyMatch(o -> o.event().localPort() == c.event().peerPort()
        && o.event().peerPort() == c.event().localPort()));
    conns.removeAll(own);
  }

  private LiveState.OpenConn open(ConnectionEvent.Side side, int localPort, int peerPort, long pid) {
    ConnectionEvent e = new ConnectionEvent(side, false, "127.0.0.1", localPort, "127.0.0.1", peerPort,
        1_700_000_000_000_000_000L, 0, 0, 0, 0, 0, 50, 0, pid, "php", dir.get(pid), true);
    return new LiveState.OpenConn(e, cookies.incrementAndGet(), 0, 0, 0, 50, 0, 0, -1, 0);
  }

  /** A worker named as discovery names it: its role from its name and listener, as WorkermanRole gives. */
  private static WorkerIdentity worker(String name, String listen) {
    String role = WorkermanRole.ofWorker(name, ListenUri.parse(listen)).attributeValue();
    return new WorkerIdentity(name, listen, MASTER, "/srv/chat/start.php", role);
  }
}
