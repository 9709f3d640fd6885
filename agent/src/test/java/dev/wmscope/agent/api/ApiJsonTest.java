package dev.wmscope.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.topology.GatewayApp;
import dev.wmscope.agent.topology.GatewayClients;
import dev.wmscope.agent.topology.TopologyWatch;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.agent.selection.InodeOwners;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.loader.ListenerState;
import dev.wmscope.loader.LiveConn;
import dev.wmscope.loader.LiveSnapshot;
import dev.wmscope.otel.CloseCause;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.ConnectionTelemetry;
import dev.wmscope.otel.WorkerIdentity;
import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API documents' schema (field names and types are a contract) and values, built from a
 * LiveState fed the way the poll thread feeds it: two workers of one app, a shared listener,
 * open connections with live reads, a reset close.
 */
class ApiJsonTest {
  static final WorkerIdentity MASTER = new WorkerIdentity("", "", 1, "/srv/chat/start.php", "master");
  static final WorkerIdentity CHAT = new WorkerIdentity("Chat Worker", "websocket://0.0.0.0:8282", 1, "/srv/chat/start.php", "worker");

  @TempDir Path proc;
  LiveState live;
  StatusSource source;
  TopologyWatch topology;

  static ConnectionEvent event(long pid, String peer, int peerPort, WorkerIdentity w, CloseCause cause) {
    long now = System.currentTimeMillis() * 1_000_000L;
    return new ConnectionEvent(ConnectionEvent.Side.SERVER, false, "127.0.0.1", 8282, peer, peerPort, now - 5_000_000_000L,
        cause == null ? 0 : now, 0, 0, 0, 0, 40, 0, pid, "php", w, false, cause, false);
  }

  private void socket(long pid, long inode) throws IOException {
    Path fd = proc.resolve(Long.toString(pid)).resolve("fd");
    Files.createDirectories(fd);
    Files.createSymbolicLink(fd.resolve(Long.toString(inode)), Path.of("socket:[" + inode + "]"));
  }

  @BeforeEach
  void feed() throws IOException {
    socket(1, 77);
    socket(100, 77);
    socket(101, 77);
    ProcessDirectory dir = new ProcessDirectory();
    dir.update(Map.of(1L, MASTER, 100L, CHAT, 101L, CHAT), System.nanoTime());
    live = new LiveState(new ConnectionTelemetry(OpenTelemetry.noop()), dir, new InodeOwners(proc),
        () -> List.of(1L, 100L, 101L), 2_000_000_000L);
    live.opened(1, event(100, "10.0.0.1", 5000, CHAT, null));
    live.opened(2, event(100, "10.0.0.2", 5001, CHAT, null));
    live.opened(3, event(101, "10.0.0.1", 5002, CHAT, null));
    live.live(new LiveSnapshot(1_000, List.of(
            new LiveConn(1, 1, 300, 200, 3, 2, 55, 1, 0, 0, 10),
            new LiveConn(2, 1, 10, 20, 1, 1, 45, 0, 7, 0, 10)),
        List.of(new ListenerState(InetAddress.getByName("0.0.0.0"), 8282, 2, 511, 4, 77))), Map.of(), 0);
    live.closed(3, event(101, "10.0.0.1", 5002, CHAT, CloseCause.RST_RECEIVED));
    live.publish(2_000);
    source = new StatusSource() {
      @Override
      public LiveState.View view() {
        return live.view();
      }

      @Override
      public List<String> notReady() {
        return List.of();
      }

      @Override
      public Map<String, Long> exportFailures() {
        return Map.of("traces/otlp", 3L);
      }

      @Override
      public long spansDropped() {
        return 12;
      }

      @Override
      public long pollIntervalMillis() {
        return 1000;
      }

      @Override
      public TopologyWatch topology() {
        return topology;
      }

      @Override
      public Map<KernelFeature, FeatureStatus> kernelFeatures() {
        Map<KernelFeature, FeatureStatus> f = new java.util.EnumMap<>(KernelFeature.class);
        for (KernelFeature k : KernelFeature.values()) {
          f.put(k, FeatureStatus.ok(k));
        }
        f.put(KernelFeature.TRACKED_ITER,
            FeatureStatus.lost(KernelFeature.TRACKED_ITER, "refused by the kernel: EPERM loading wmscope_iter_tracked"));
        return f;
      }
    };
  }

  @Test
  void statusHasAgentTotalsWorkersAndListeners() {
    JsonObject s = ApiJson.status(source);
    assertThat(s.fieldNames()).containsExactlyInAnyOrder("agent", "window_s", "totals", "workers", "listeners");
    JsonObject t = s.getJsonObject("totals");
    assertThat(t.fieldNames()).containsExactlyInAnyOrder("active", "opened", "closed", "opened_per_s", "closed_per_s",
        "bytes_in", "bytes_out", "bytes_in_per_s", "bytes_out_per_s", "rtt_p50_us", "rtt_p99_us", "retransmits", "resets",
        "workers", "stalled_workers", "listeners", "accept_queue", "accept_queue_limit", "listen_drops", "events_dropped");
    assertThat(t.getLong("active")).isEqualTo(2);
    assertThat(t.getLong("opened")).isEqualTo(3);
    assertThat(t.getLong("closed")).isEqualTo(1);
    assertThat(t.getLong("bytes_in")).isEqualTo(310);
    assertThat(t.getLong("bytes_out")).isEqualTo(220);
    assertThat(t.getLong("resets")).isEqualTo(1);
    assertThat(t.getLong("retransmits")).isEqualTo(1);
    assertThat(t.getLong("workers")).isEqualTo(2); // the master is no worker row
    assertThat(t.getLong("accept_queue")).isEqualTo(2);
    assertThat(t.getLong("listen_drops")).isEqualTo(4);
  }

  @Test
  void workerRowsCarryIdentityTrafficAndTheSharedAcceptQueue() {
    JsonArray workers = ApiJson.workers(source).getJsonArray("workers");
    assertThat(workers).hasSize(2);
    JsonObject w = workers.getJsonObject(0);
    assertThat(w.fieldNames()).containsExactlyInAnyOrder("pid", "name", "listen", "role", "master_pid", "start_file",
        "process_name", "active", "opened", "closed", "opened_per_s", "closed_per_s", "bytes_in", "bytes_out",
        "bytes_in_per_s", "bytes_out_per_s", "rtt_p50_us", "rtt_p99_us", "retransmits", "resets", "stalled",
        "queued_bytes", "accept_queue", "accept_queue_limit", "listen_drops", "shares");
    assertThat(w.getLong("pid")).isEqualTo(100);
    assertThat(w.getString("name")).isEqualTo("Chat Worker");
    assertThat(w.getString("listen")).isEqualTo("websocket://0.0.0.0:8282");
    assertThat(w.getString("role")).isEqualTo("worker");
    assertThat(w.getLong("master_pid")).isEqualTo(1);
    assertThat(w.getLong("active")).isEqualTo(2);
    assertThat(w.getLong("bytes_in")).isEqualTo(310);
    assertThat(w.getLong("bytes_out")).isEqualTo(220);
    assertThat(w.getLong("rtt_p50_us")).isPositive();
    assertThat(w.getLong("queued_bytes")).isEqualTo(7);
    assertThat(w.getLong("accept_queue")).isEqualTo(2);
    assertThat(w.getLong("accept_queue_limit")).isEqualTo(511);
    assertThat(w.getJsonArray("shares").getJsonObject(0).fieldNames()).containsExactlyInAnyOrder("port", "accepted", "active");
    JsonObject other = workers.getJsonObject(1);
    assertThat(other.getLong("pid")).isEqualTo(101);
    assertThat(other.getLong("resets")).isEqualTo(1);
    assertThat(other.getLong("active")).isZero();
  }

  @Test
  void listenersNameTheMasterOfASharedSocket() {
    JsonObject l = ApiJson.listenersDocument(live.view()).getJsonArray("listeners").getJsonObject(0);
    assertThat(l.fieldNames()).containsExactlyInAnyOrder("address", "port", "accept_queue", "accept_queue_limit", "drops",
        "pid", "holders", "shared", "name", "listen", "role", "master_pid", "start_file");
    assertThat(l.getLong("pid")).isEqualTo(1);
    assertThat(l.getString("role")).isEqualTo("master");
    assertThat(l.getBoolean("shared")).isTrue();
    assertThat(l.getJsonArray("holders").getList()).containsExactly(1L, 100L, 101L);
  }

  /**
   * {@code /api/topology}: 3 clients open on the Gateway 4 s after the agent started, so 0.75
   * opened/s over a 4 s window; the gateway row carries them next to its inner ports, the other
   * roles have none of these keys.
   */
  @Test
  void topologyGatewaysCarryClientsAndClientsOpenedPerSecond() {
    AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
    GatewayApp app = new GatewayApp().linked(20, 30);
    GatewayClients clients = new GatewayClients(nanos::get);
    topology = new TopologyWatch(app::view, app::directory, clients, null);
    for (int i = 0; i < 3; i++) {
      clients.opened(app.client(20));
    }
    nanos.addAndGet(4_000_000_000L);
    topology.tick();

    JsonObject doc = ApiJson.topology(source);
    assertThat(doc.fieldNames()).containsExactlyInAnyOrder("window_s", "apps");
    assertThat(doc.getDouble("window_s")).isEqualTo(4.0);
    JsonObject a = doc.getJsonArray("apps").getJsonObject(0);
    assertThat(a.fieldNames()).containsExactlyInAnyOrder("master_pid", "start_file", "processes", "links",
        "missing_links");
    List<JsonObject> nodes = a.getJsonArray("processes").stream().map(JsonObject.class::cast).toList();
    assertThat(nodes).extracting(n -> n.getLong("pid")).containsExactly(10L, 20L, 30L);
    JsonObject gateway = nodes.get(1);
    assertThat(gateway.fieldNames()).containsExactlyInAnyOrder("pid", "name", "role", "listen", "inner_ports", "clients",
        "clients_opened", "clients_opened_per_s");
    assertThat(gateway.getJsonArray("inner_ports").getList()).containsExactly(GatewayApp.LAN_PORT);
    assertThat(gateway.getLong("clients")).isEqualTo(3);
    assertThat(gateway.getLong("clients_opened")).isEqualTo(3);
    assertThat(gateway.getDouble("clients_opened_per_s")).isEqualTo(0.75);
    assertThat(nodes.get(0).fieldNames()).containsExactlyInAnyOrder("pid", "name", "role", "listen");
    assertThat(nodes.get(2).fieldNames()).containsExactlyInAnyOrder("pid", "name", "role", "listen");
    assertThat(a.getJsonArray("links")).hasSize(3).allSatisfy(l -> assertThat(((JsonObject) l).fieldNames())
        .containsExactlyInAnyOrder("client_pid", "client_role", "server_pid", "server_role", "server_port", "rtt_us",
            "unacked_bytes", "unread_bytes", "age_s", "reconnects"));
  }

  @Test
  void topologyWithoutAWatchHasNoApps() {
    JsonObject doc = ApiJson.topology(source);
    assertThat(doc.getJsonArray("apps")).isEmpty();
    assertThat(doc.getDouble("window_s")).isZero();
  }

  @Test
  void connectionsAreFilteredSortedAndLimited() {
    JsonObject all = ApiJson.connections(live.view(), ApiJson.ConnectionFilter.ALL);
    assertThat(all.getLong("total")).isEqualTo(2);
    JsonObject first = all.getJsonArray("connections").getJsonObject(0);
    assertThat(first.fieldNames()).containsExactlyInAnyOrder("pid", "name", "listen", "role", "master_pid", "start_file",
        "process_name", "side", "local_address", "local_port", "peer_address", "peer_port", "ip_version", "started",
        "age_s", "preexisting", "internal", "bytes_in", "bytes_out", "rtt_us", "retransmits", "recv_queue_bytes",
        "send_queue_bytes", "unread_for_s");
    assertThat(first.getString("peer_address")).isEqualTo("10.0.0.1"); // largest first
    assertThat(first.getLong("bytes_in")).isEqualTo(300);
    assertThat(first.getLong("rtt_us")).isEqualTo(55);
    assertThat(first.getDouble("age_s")).isBetween(4.0, 60.0);

    assertThat(ApiJson.connections(live.view(), new ApiJson.ConnectionFilter(null, null, "10.0.0.2", null, 10, null))
        .getJsonArray("connections")).hasSize(1);
    assertThat(ApiJson.connections(live.view(), new ApiJson.ConnectionFilter(null, null, "10.0.0.2:5001", null, 10, null))
        .getLong("matched")).isEqualTo(1);
    assertThat(ApiJson.connections(live.view(), new ApiJson.ConnectionFilter("chat worker", 8282, null, null, 10, "rtt"))
        .getLong("matched")).isEqualTo(2);
    assertThat(ApiJson.connections(live.view(), new ApiJson.ConnectionFilter("100", null, null, null, 10, "age"))
        .getLong("matched")).isEqualTo(2);
    assertThat(ApiJson.connections(live.view(), new ApiJson.ConnectionFilter("Other", null, null, null, 10, null))
        .getLong("matched")).isZero();
    JsonObject one = ApiJson.connections(live.view(), new ApiJson.ConnectionFilter(null, null, null, null, 1, null));
    assertThat(one.getBoolean("truncated")).isTrue();
    assertThat(one.getLong("count")).isEqualTo(1);
    assertThatThrownBy(() -> new ApiJson.ConnectionFilter(null, null, null, null, 0, null)).hasMessageContaining("limit 0");
    assertThatThrownBy(() -> new ApiJson.ConnectionFilter(null, null, null, null, 5, "size")).hasMessageContaining("sort size");
  }

  @Test
  void topPeersByBytes() {
    JsonObject top = ApiJson.top(live.view(), 10);
    JsonArray peers = top.getJsonArray("peers");
    assertThat(peers).hasSize(2);
    JsonObject p = peers.getJsonObject(0);
    assertThat(p.fieldNames()).containsExactlyInAnyOrder("peer_address", "active", "opened", "bytes", "bytes_in",
        "bytes_out", "bytes_in_per_s", "bytes_out_per_s", "rtt_p50_us", "rtt_p99_us");
    assertThat(p.getString("peer_address")).isEqualTo("10.0.0.1");
    assertThat(p.getLong("bytes")).isEqualTo(500);
    assertThat(p.getLong("opened")).isEqualTo(2);
    assertThat(ApiJson.top(live.view(), 1).getJsonArray("peers")).hasSize(1);
    assertThatThrownBy(() -> ApiJson.top(live.view(), 101)).hasMessageContaining("1-100");
  }

  @Test
  void agentAndHistoryDocuments() {
    JsonObject a = ApiJson.agent(source);
    assertThat(a.fieldNames()).contains("version", "commit", "pid", "started", "uptime_s", "ready", "not_ready",
        "poll_interval_ms", "events", "events_per_s", "poll_lag_ms", "poll_lag_max_ms", "events_dropped",
        "export_failures", "spans_dropped", "open_connections", "peers_tracked", "peers_evicted", "jvm");
    assertThat(a.getJsonObject("export_failures").getLong("traces/otlp")).isEqualTo(3);
    assertThat(a.getLong("spans_dropped")).isEqualTo(12);
    assertThat(a.getJsonObject("jvm").getLong("heap_used_bytes")).isPositive();
    JsonObject features = a.getJsonObject("kernel_features");
    assertThat(features.fieldNames()).containsExactly("tracked_iter", "tcp_iter", "adoption", "accept_attribution",
        "recv_attribution", "reset_marks", "request_capture", "loop_health", "worker_exits", "oom_marks");
    assertThat(features.getJsonObject("tcp_iter")).isEqualTo(new JsonObject().put("state", "ok"));
    assertThat(features.getJsonObject("tracked_iter")).isEqualTo(new JsonObject().put("state", "degraded")
        .put("cause", "refused by the kernel: EPERM loading wmscope_iter_tracked")
        .put("consequence", KernelFeature.TRACKED_ITER.consequence()));
    assertThat(a.getJsonArray("degraded_features")).containsExactly("tracked_iter");
    JsonArray points = ApiJson.history(live.view()).getJsonArray("points");
    assertThat(points).hasSize(1);
    assertThat(points.getJsonObject(0).fieldNames()).containsExactlyInAnyOrder("time", "active", "opened_per_s",
        "closed_per_s", "bytes_in_per_s", "bytes_out_per_s", "rtt_p50_us", "rtt_p99_us", "accept_queue",
        "accept_queue_limit", "events_per_s", "poll_lag_ms");
  }

  @Test
  void anExplicitSelectionListsOnlyWorkersWithTrafficOrAWatchedSocket() throws IOException {
    ProcessDirectory dir = new ProcessDirectory();
    dir.update(Map.of(100L, CHAT, 200L, new WorkerIdentity("Other", "text://0.0.0.0:9", 1, "/srv/x/start.php", "worker")),
        System.nanoTime());
    LiveState l = new LiveState(new ConnectionTelemetry(OpenTelemetry.noop()), dir, new InodeOwners(proc),
        List::of, 2_000_000_000L);
    l.opened(1, event(100, "10.0.0.1", 5000, CHAT, null));
    l.publish(1);
    StatusSource explicit = new StatusSource() {
      public LiveState.View view() {
        return l.view();
      }

      public List<String> notReady() {
        return List.of();
      }

      public Map<String, Long> exportFailures() {
        return Map.of();
      }

      public long spansDropped() {
        return 0;
      }

      public long pollIntervalMillis() {
        return 1000;
      }

      public boolean watchesAllWorkers() {
        return false;
      }
    };
    assertThat(ApiJson.workers(explicit).getJsonArray("workers").stream().map(o -> ((JsonObject) o).getLong("pid")))
        .containsExactly(100L);
  }
}
