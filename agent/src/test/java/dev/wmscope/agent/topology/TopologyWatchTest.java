package dev.wmscope.agent.topology;

import static dev.wmscope.agent.topology.GatewayApp.LAN_PORT;
import static dev.wmscope.agent.topology.GatewayApp.REGISTER;
import static dev.wmscope.agent.topology.GatewayApp.REGISTER_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.ConnectionEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The topology's roles, missing links, reconnects and client opens from hand-built views of one
 * GatewayWorker app ({@link GatewayApp}): a Register (pid 10), a Gateway and a BusinessWorker,
 * each link tracked on both ends.
 */
class TopologyWatchTest {
  private static final long SECOND = 1_000_000_000L;

  private final GatewayApp app = new GatewayApp();
  private final List<String> reconnected = new ArrayList<>();
  private final AtomicLong nanos = new AtomicLong(1_000 * SECOND);
  private final GatewayClients clients = new GatewayClients(nanos::get);
  private final TopologyWatch watch = new TopologyWatch(app::view, app::directory, clients,
      (c, s) -> reconnected.add(c + ">" + s));

  @Test
  void rolesLinksAndNothingMissingWhenEveryLinkIsUp() {
    app.linked(20, 30);
    watch.tick();
    GatewayTopology.App found = watch.apps().getFirst();
    assertThat(found.nodes()).extracting(n -> n.pid() + ":" + n.role())
        .containsExactly("10:register", "20:gateway", "30:business_worker");
    assertThat(found.links()).extracting(l -> l.clientPid() + ">" + l.serverPid())
        .containsExactly("20>10", "30>10", "30>20");
    assertThat(found.missing()).isEmpty();
    assertThat(found.links()).allSatisfy(l -> assertThat(watch.reconnects(l)).isZero());
  }

  @Test
  void rolesFromWhatTheyDoWhenNamesSayNothing() {
    app.process(10, "Hub", "text://127.0.0.1:" + REGISTER_PORT).process(20, "Chat", "websocket://127.0.0.1:7272")
        .process(30, "Logic", "none");
    app.link(20, 10, REGISTER_PORT).link(30, 10, REGISTER_PORT).link(30, 20, LAN_PORT);
    watch.tick();
    assertThat(watch.apps().getFirst().nodes()).extracting(n -> n.pid() + ":" + n.role())
        .containsExactly("10:register", "20:gateway", "30:business_worker");
  }

  @Test
  void aReplacedBusinessWorkerIsMissingAfterTwoTicksUntilItLinksAndNeverCountsAReconnect() {
    app.linked(20, 30);
    watch.tick();
    // the business worker is killed: its links go with it, its replacement starts without links
    app.kill(30);
    app.process(31, "ChatBusinessWorker", "none");
    watch.tick();
    assertThat(watch.reportedMissing(31, 20)).as("one tick is a start, not a missing link").isFalse();
    watch.tick();
    assertThat(watch.reportedMissing(31, 20)).isTrue();
    assertThat(watch.reportedMissing(31, 10)).isTrue();
    assertThat(watch.reportedMissing(30, 20)).as("the dead one is not missing anything").isFalse();
    app.link(31, 20, LAN_PORT).link(31, 10, REGISTER_PORT);
    watch.tick();
    assertThat(watch.reportedMissing(31, 20)).isFalse();
    assertThat(watch.reportedMissing(31, 10)).isFalse();
    assertThat(watch.apps().getFirst().links()).allSatisfy(l -> assertThat(watch.reconnects(l)).isZero());
    assertThat(reconnected).as("a new process's first links are not reconnects").isEmpty();
  }

  @Test
  void aRestartedGatewayCountsOneReconnectPerClientOfItsLanPort() {
    app.linked(20, 30);
    watch.tick();
    // the gateway is killed and re-forked on the same lan port; the business worker reconnects
    app.kill(20);
    app.process(21, "ChatGateway", "websocket://127.0.0.1:7272");
    watch.tick();
    app.link(21, 10, REGISTER_PORT).link(30, 21, LAN_PORT);
    watch.tick();
    GatewayTopology.App found = watch.apps().getFirst();
    assertThat(found.missing()).isEmpty();
    Map<String, Long> byLink = new HashMap<>();
    found.links().forEach(l -> byLink.put(l.clientPid() + ">" + l.serverPid(), watch.reconnects(l)));
    assertThat(byLink).containsExactlyInAnyOrderEntriesOf(Map.of("21>10", 0L, "30>10", 0L, "30>21", 1L));
    assertThat(reconnected).containsExactly("business_worker>gateway");
    // the same connection seen again is not another reconnect
    watch.tick();
    assertThat(reconnected).hasSize(1);
  }

  /**
   * Two Gateways, 10 s of ticks: 20 clients open on gateway 20 and 5 on gateway 21 in the first
   * 5 s, then nothing. Only client connections count: not the links the gateways accept on their
   * lan port (internal, or from another host) or make to the Register, not an internal connection
   * to the client port, not a client adopted from before the agent. The rate is
   * over the window, as the worker rows' opened_per_s.
   */
  @Test
  void clientsOpenedPerSecondCountsOnlyClientConnectionsOfEachGatewayOverTheWindow() {
    app.linked(20, 30).process(21, "ChatGateway", "websocket://127.0.0.1:7272").link(21, REGISTER, REGISTER_PORT)
        .link(30, 21, LAN_PORT + 1);
    app.accepted(20, LAN_PORT, false); // a BusinessWorker on another host: not internal, not a client either
    app.accepted(20, GatewayApp.CLIENT_PORT, true); // a watched process of this host on the client port: internal
    app.view().connections().forEach(c -> clients.opened(c.event())); // the links: none counts
    for (int s = 0; s < 5; s++) {
      for (int i = 0; i < 4; i++) {
        clients.opened(app.client(20));
      }
      clients.opened(app.client(21));
      second();
    }
    ConnectionEvent adopted = app.client(21);
    clients.opened(new ConnectionEvent(adopted.side(), false, adopted.localAddress(), adopted.localPort(),
        adopted.peerAddress(), adopted.peerPort(), adopted.startEpochNanos(), 0, 0, 0, 0, 0, 50, 0, adopted.pid(),
        "php", adopted.worker(), false, null, true));
    for (int s = 0; s < 5; s++) {
      second();
    }
    Map<Long, GatewayTopology.Node> nodes = nodes();
    assertThat(watch.windowSeconds()).isEqualTo(10.0);
    assertThat(nodes.get(20L).clients()).isEqualTo(20);
    assertThat(nodes.get(20L).clientsOpened()).isEqualTo(20);
    assertThat(nodes.get(20L).clientsOpenedPerSec()).isEqualTo(2.0);
    assertThat(nodes.get(21L).clients()).as("the adopted one is held now").isEqualTo(6);
    assertThat(nodes.get(21L).clientsOpened()).as("but was not opened while watched").isEqualTo(5);
    assertThat(nodes.get(21L).clientsOpenedPerSec()).isEqualTo(0.5);
    assertThat(nodes.get(30L).clientsOpened()).as("a business worker has no clients").isZero();
    assertThat(nodes.get(REGISTER).clientsOpened()).isZero();
    // 10 s later the opens have left the window; the count since start stays
    for (int s = 0; s < 10; s++) {
      second();
    }
    assertThat(nodes().get(20L).clientsOpenedPerSec()).isZero();
    assertThat(nodes().get(20L).clientsOpened()).isEqualTo(20);
  }

  /** One second passes; the topology ticks. */
  private void second() {
    nanos.addAndGet(SECOND);
    watch.tick();
  }

  private Map<Long, GatewayTopology.Node> nodes() {
    Map<Long, GatewayTopology.Node> out = new HashMap<>();
    watch.apps().getFirst().nodes().forEach(n -> out.put(n.pid(), n));
    return out;
  }
}
