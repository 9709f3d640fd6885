package dev.wmscope.agent.api;

import dev.wmscope.agent.cli.BuildInfo;
import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.requests.RequestStats;
import dev.wmscope.agent.requests.RequestTracker;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.agent.probe.TrafficStats;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HostTelemetry;
import dev.wmscope.otel.WorkerIdentity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The JSON documents of the HTTP API ({@code /api/*}), built from a {@link LiveState.View}.
 * Field names are snake_case and stable (documented in the README); byte and count fields are
 * integers, rates are per second over {@code window_s}, RTTs are microseconds. The CLI's
 * {@code status} and {@code connections} read the same documents, from a running agent or from
 * an embedded sample, so both always agree.
 *
 * <p>Stateless; every method is safe on any thread.
 */
public final class ApiJson {
  private ApiJson() {}

  /** Limits of {@code /api/connections}. */
  public static final int DEFAULT_CONNECTION_LIMIT = 1000;
  public static final int MAX_CONNECTION_LIMIT = 100_000;

  /** Everything {@code wmscope status} shows: agent, totals, workers, listeners. */
  public static JsonObject status(StatusSource source) {
    LiveState.View v = source.view();
    JsonArray workers = withHealth(workerRows(v, source.watchesAllWorkers(), source.requestStats()),
        source.workerLoops());
    return new JsonObject()
        .put("agent", agent(source))
        .put("window_s", round(v.stats().windowSeconds()))
        .put("totals", totals(v, workers))
        .put("workers", workers)
        .put("listeners", listeners(v));
  }

  /** {@code /api/workers}. */
  public static JsonObject workers(StatusSource source) {
    LiveState.View v = source.view();
    return new JsonObject().put("window_s", round(v.stats().windowSeconds()))
        .put("workers", withHealth(workerRows(v, source.watchesAllWorkers(), source.requestStats()),
            source.workerLoops()));
  }

  /**
   * Worker health fields on each worker row (a watched worker without a row yet gets one):
   * "eventloop" {kind, utilization, state, blocked, blocked_s, doing, busy_stretches},
   * "open_fds", "fd_limit".
   */
  static JsonArray withHealth(JsonArray rows, List<dev.wmscope.agent.health.WorkerHealth.Loop> loops) {
    Map<Long, dev.wmscope.agent.health.WorkerHealth.Loop> byPid = new HashMap<>();
    loops.forEach(l -> byPid.put(l.pid(), l));
    for (Object o : rows) {
      JsonObject row = (JsonObject) o;
      var l = byPid.get(row.getLong("pid"));
      if (l == null) {
        continue;
      }
      row.put("eventloop", new JsonObject().put("kind", l.kind())
              .put("utilization", Double.isNaN(l.utilization()) ? null : Math.round(l.utilization() * 1000) / 1000.0)
              .put("state", l.state()).put("blocked", l.blocked()).put("blocked_s", round(l.blockedFor()))
              .put("doing", l.doing()).put("busy_stretches", l.busyStretches()))
          .put("open_fds", l.openFds() < 0 ? null : l.openFds())
          .put("fd_limit", l.fdLimit() < 0 ? null : l.fdLimit());
    }
    return rows;
  }

  /**
   * {@code /api/topology}: per GatewayWorker app its processes by role (gateways with their
   * clients, client connections opened and inner ports), every internal link with RTT, backlog,
   * age and reconnects, and the links the convention expects that are missing.
   */
  public static JsonObject topology(StatusSource source) {
    var watch = source.topology();
    JsonArray apps = new JsonArray();
    long nowEpoch = Instant.now().toEpochMilli() * 1_000_000L;
    if (watch != null) {
      for (var app : watch.apps()) {
        JsonArray nodes = new JsonArray();
        for (var n : app.nodes()) {
          JsonObject o = new JsonObject().put("pid", n.pid()).put("name", n.name()).put("role", n.role())
              .put("listen", n.listen());
          if (n.role().equals(dev.wmscope.agent.topology.GatewayTopology.GATEWAY)) {
            o.put("inner_ports", new JsonArray(new ArrayList<>(n.innerPorts()))).put("clients", n.clients())
                .put("clients_opened", n.clientsOpened())
                .put("clients_opened_per_s", round(n.clientsOpenedPerSec()));
          }
          nodes.add(o);
        }
        JsonArray links = new JsonArray();
        for (var l : app.links()) {
          links.add(new JsonObject().put("client_pid", l.clientPid()).put("client_role", l.clientRole())
              .put("server_pid", l.serverPid()).put("server_role", l.serverRole()).put("server_port", l.serverPort())
              .put("rtt_us", l.rttMicros()).put("unacked_bytes", l.unackedBytes()).put("unread_bytes", l.unreadBytes())
              .put("age_s", round(Math.max(0, nowEpoch - l.startEpochNanos()) / 1e9))
              .put("reconnects", watch.reconnects(l)));
        }
        JsonArray missing = new JsonArray();
        for (var m : app.missing()) {
          if (watch.reportedMissing(m.clientPid(), m.serverPid())) {
            missing.add(new JsonObject().put("client_pid", m.clientPid()).put("client_role", m.clientRole())
                .put("server_pid", m.serverPid()).put("server_role", m.serverRole()));
          }
        }
        apps.add(new JsonObject().put("master_pid", app.masterPid()).put("start_file", app.startFile())
            .put("processes", nodes).put("links", links).put("missing_links", missing));
      }
    }
    return new JsonObject().put("window_s", round(watch == null ? 0 : watch.windowSeconds())).put("apps", apps);
  }

  /** {@code /api/events}: recent worker starts and exits, newest first. */
  public static JsonObject events(StatusSource source) {
    JsonArray out = new JsonArray();
    List<dev.wmscope.agent.health.WorkerHealth.Event> all = source.lifecycleEvents();
    for (int i = all.size() - 1; i >= 0; i--) {
      var e = all.get(i);
      JsonObject o = new JsonObject().put("time", e.at().toString()).put("type", e.type()).put("pid", e.pid());
      identity(o, e.worker());
      if (!e.type().equals("start")) {
        o.put("cause", e.cause()).put("detail", e.detail());
      }
      e.fields().forEach(o::put);
      out.add(o);
    }
    return new JsonObject().put("events", out);
  }

  /** {@code /api/listeners}. */
  public static JsonObject listenersDocument(LiveState.View v) {
    return new JsonObject().put("listeners", listeners(v));
  }

  static JsonObject totals(LiveState.View v, JsonArray workers) {
    TrafficStats.OwnerStats t = v.stats().total();
    long queue = 0;
    long limit = 0;
    long drops = 0;
    for (LiveState.Listener l : v.listeners()) {
      queue += l.state().acceptQueue();
      limit += l.state().acceptLimit();
      drops += l.state().drops();
    }
    JsonObject o = traffic(new JsonObject(), t)
        .put("workers", workers.size())
        .put("stalled_workers", workers.stream().filter(w -> ((JsonObject) w).getBoolean("stalled")).count())
        .put("listeners", v.listeners().size())
        .put("accept_queue", queue)
        .put("accept_queue_limit", limit)
        .put("listen_drops", drops)
        .put("events_dropped", v.dropped().values().stream().mapToLong(Long::longValue).sum());
    return o;
  }

  private static JsonObject traffic(JsonObject o, TrafficStats.OwnerStats s) {
    return o.put("active", s.active())
        .put("opened", s.opened())
        .put("closed", s.closed())
        .put("opened_per_s", round(s.openedPerSec()))
        .put("closed_per_s", round(s.closedPerSec()))
        .put("bytes_in", s.bytesIn())
        .put("bytes_out", s.bytesOut())
        .put("bytes_in_per_s", round(s.bytesInPerSec()))
        .put("bytes_out_per_s", round(s.bytesOutPerSec()))
        .put("rtt_p50_us", s.rttP50Micros())
        .put("rtt_p99_us", s.rttP99Micros())
        .put("retransmits", s.retransmits())
        .put("resets", s.resets());
  }

  /**
   * One row per worker process (and per other owner with traffic; pid 0: unattributed). With
   * {@code allKnown} false, workers without traffic or a watched listening socket are left out.
   */
  static JsonArray workerRows(LiveState.View v, boolean allKnown) {
    return workerRows(v, allKnown, RequestStats.Snapshot.EMPTY);
  }

  static JsonArray workerRows(LiveState.View v, boolean allKnown, RequestStats.Snapshot requests) {
    Map<Long, WorkerIdentity> identity = new HashMap<>();
    Map<Long, HostTelemetry.WorkerGauge> gauges = new HashMap<>();
    for (HostTelemetry.WorkerGauge g : v.workers()) {
      gauges.put(g.pid(), g);
      if (g.worker() != null) {
        identity.put(g.pid(), g.worker());
      }
    }
    for (LiveState.OpenConn c : v.connections()) {
      if (c.event().worker() != null) {
        identity.putIfAbsent(c.event().pid(), c.event().worker());
      }
    }
    Set<Long> pids = new TreeSet<>(gauges.keySet());
    pids.addAll(v.stats().owners().keySet());
    Map<Long, long[]> accept = new HashMap<>(); // pid -> {queue, limit, drops}
    for (LiveState.Listener l : v.listeners()) {
      Set<Long> holders = new TreeSet<>(l.holders());
      if (l.pid() > 0) {
        holders.add(l.pid());
      }
      for (long pid : holders) {
        long[] a = accept.computeIfAbsent(pid, p -> new long[3]);
        a[0] += l.state().acceptQueue();
        a[1] += l.state().acceptLimit();
        a[2] += l.state().drops();
      }
    }
    Map<Long, JsonArray> shares = new HashMap<>();
    for (HostTelemetry.ShareGauge s : v.shares()) {
      shares.computeIfAbsent(s.pid(), p -> new JsonArray()).add(new JsonObject().put("port", s.port())
          .put("accepted", round(s.acceptedShare())).put("active", round(s.activeShare())));
    }
    List<JsonObject> rows = new ArrayList<>();
    for (long pid : pids) {
      WorkerIdentity w = identity.get(pid);
      if (w != null && w.role().equals("master") && !v.stats().owners().containsKey(pid)) {
        continue; // a master serves no connections; its shared listener shows under its workers
      }
      TrafficStats.OwnerStats s = v.stats().owners().get(pid);
      if (!allKnown && s == null && !accept.containsKey(pid)) {
        continue; // a Workerman process the selection does not watch
      }
      HostTelemetry.WorkerGauge g = gauges.get(pid);
      long[] a = accept.getOrDefault(pid, new long[3]);
      JsonObject row = new JsonObject().put("pid", pid);
      identity(row, w);
      row.put("process_name", s == null ? "" : s.processName());
      traffic(row, s == null ? new TrafficStats.OwnerStats(pid, "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) : s);
      row.put("stalled", g != null && g.stalled())
          .put("queued_bytes", g == null ? 0 : g.queuedBytes())
          .put("accept_queue", a[0])
          .put("accept_queue_limit", a[1])
          .put("listen_drops", a[2])
          .put("shares", shares.getOrDefault(pid, new JsonArray()));
      RequestStats.Worker r = requests.workers().get(pid);
      if (r != null) {
        // HTTP and WebSocket workers: rates over the last minute
        row.put("requests", r.requests()).put("requests_per_s", round(r.requestsPerSec()))
            // microsecond resolution: loopback requests take tens of microseconds
            .put("request_p50_ms", Math.round(r.p50Millis() * 1000) / 1000.0)
            .put("request_p99_ms", Math.round(r.p99Millis() * 1000) / 1000.0)
            .put("errors_5xx", r.errors5xx()).put("errors_5xx_per_s", round(r.errors5xxPerSec()))
            .put("websocket_messages", r.messages()).put("websocket_messages_per_s", round(r.messagesPerSec()));
      }
      rows.add(row);
    }
    rows.sort(Comparator.comparing((JsonObject r) -> r.getLong("pid") == 0 ? 1 : 0)
        .thenComparing(r -> r.getLong("master_pid") == null ? Long.MAX_VALUE : r.getLong("master_pid"))
        .thenComparing(r -> r.getString("name") == null ? "\uffff" : r.getString("name"))
        .thenComparing(r -> r.getLong("pid")));
    return new JsonArray(new ArrayList<>(rows));
  }

  private static void identity(JsonObject o, WorkerIdentity w) {
    o.put("name", w == null ? null : w.workerName())
        .put("listen", w == null ? null : w.listen())
        .put("role", w == null ? null : w.role())
        .put("master_pid", w == null ? null : w.masterPid())
        .put("start_file", w == null ? null : w.startFile());
  }

  static JsonArray listeners(LiveState.View v) {
    List<JsonObject> out = new ArrayList<>();
    for (LiveState.Listener l : v.listeners()) {
      JsonObject o = new JsonObject()
          .put("address", l.state().address().getHostAddress())
          .put("port", l.state().port())
          .put("accept_queue", l.state().acceptQueue())
          .put("accept_queue_limit", l.state().acceptLimit())
          .put("drops", l.state().drops())
          .put("pid", l.pid())
          .put("holders", new JsonArray(new ArrayList<>(new TreeSet<>(l.holders()))))
          .put("shared", l.holders().size() > 1);
      identity(o, l.worker());
      out.add(o);
    }
    out.sort(Comparator.comparing((JsonObject o) -> o.getInteger("port")).thenComparing(o -> o.getString("address")));
    return new JsonArray(new ArrayList<>(out));
  }

  /** Which open connections {@code /api/connections} returns. */
  public record ConnectionFilter(String worker, Integer port, String peer, Long pid, int limit, String sort) {
    public static final ConnectionFilter ALL = new ConnectionFilter(null, null, null, null, DEFAULT_CONNECTION_LIMIT, "bytes");

    public ConnectionFilter {
      if (limit < 1 || limit > MAX_CONNECTION_LIMIT) {
        throw new IllegalArgumentException("limit " + limit + ": must be 1-" + MAX_CONNECTION_LIMIT);
      }
      if (sort == null) {
        sort = "bytes";
      }
      if (!Set.of("bytes", "age", "rtt").contains(sort)) {
        throw new IllegalArgumentException("sort " + sort + ": use bytes, age or rtt");
      }
      if (port != null && (port < 1 || port > 65535)) {
        throw new IllegalArgumentException("port " + port + ": not a TCP port (1-65535)");
      }
    }

    boolean matches(ConnectionEvent e) {
      if (pid != null && e.pid() != pid) {
        return false;
      }
      if (worker != null) {
        boolean byPid = worker.chars().allMatch(Character::isDigit) && !worker.isEmpty()
            && Long.parseLong(worker) == e.pid();
        boolean byName = e.worker() != null && e.worker().workerName().equalsIgnoreCase(worker);
        if (!byPid && !byName) {
          return false;
        }
      }
      if (port != null && e.localPort() != port && e.serverPort() != port) {
        return false;
      }
      if (peer != null) {
        String p = peer.startsWith("[") ? peer.replace("[", "").replace("]", "") : peer;
        String addrPort = e.peerAddress() + ":" + e.peerPort();
        if (!p.equals(e.peerAddress()) && !p.equals(addrPort)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code /api/connections}: open connections, largest first (or oldest, or slowest). */
  public static JsonObject connections(LiveState.View v, ConnectionFilter f) {
    long nowEpochNanos = Instant.now().toEpochMilli() * 1_000_000L;
    List<LiveState.OpenConn> matching = new ArrayList<>();
    for (LiveState.OpenConn c : v.connections()) {
      if (f.matches(c.event())) {
        matching.add(c);
      }
    }
    Comparator<LiveState.OpenConn> order = switch (f.sort()) {
      case "age" -> Comparator.comparingLong(c -> c.event().startEpochNanos());
      case "rtt" -> Comparator.comparingLong((LiveState.OpenConn c) -> c.srttMicros()).reversed();
      default -> Comparator.comparingLong((LiveState.OpenConn c) -> c.receivedReported() + c.sentReported()).reversed();
    };
    matching.sort(order.thenComparingLong(LiveState.OpenConn::cookie));
    JsonArray rows = new JsonArray();
    for (int i = 0; i < matching.size() && i < f.limit(); i++) {
      rows.add(connection(matching.get(i), v.monoNanos(), nowEpochNanos));
    }
    return new JsonObject()
        .put("total", v.connections().size())
        .put("matched", matching.size())
        .put("count", rows.size())
        .put("truncated", matching.size() > rows.size())
        .put("connections", rows);
  }

  private static JsonObject connection(LiveState.OpenConn c, long viewMonoNanos, long nowEpochNanos) {
    ConnectionEvent e = c.event();
    JsonObject o = new JsonObject()
        .put("pid", e.pid());
    identity(o, e.worker());
    o.put("process_name", e.processName() == null ? "" : e.processName())
        .put("side", e.side() == ConnectionEvent.Side.SERVER ? "server" : "client")
        .put("local_address", e.localAddress())
        .put("local_port", e.localPort())
        .put("peer_address", e.peerAddress())
        .put("peer_port", e.peerPort())
        .put("ip_version", e.ipv6() ? 6 : 4)
        .put("started", Instant.ofEpochSecond(0, e.startEpochNanos()).toString())
        .put("age_s", round(Math.max(0, nowEpochNanos - e.startEpochNanos()) / 1e9))
        .put("preexisting", e.preexisting())
        .put("internal", e.internal())
        .put("bytes_in", c.receivedReported())
        .put("bytes_out", c.sentReported())
        .put("rtt_us", c.srttMicros())
        .put("retransmits", c.retransReported())
        .put("recv_queue_bytes", c.rcvQueue())
        .put("send_queue_bytes", c.sndQueue())
        .put("unread_for_s", c.stuckSinceNanos() == 0 ? 0 : round(Math.max(0, viewMonoNanos - c.stuckSinceNanos()) / 1e9));
    return o;
  }

  /** {@code /api/top}: peer addresses by bytes exchanged since the agent started. */
  public static JsonObject top(LiveState.View v, int limit) {
    if (limit < 1 || limit > 100) {
      throw new IllegalArgumentException("limit " + limit + ": must be 1-100");
    }
    JsonArray peers = new JsonArray();
    for (TrafficStats.PeerStats p : v.stats().topPeers()) {
      if (peers.size() >= limit) {
        break;
      }
      peers.add(new JsonObject()
          .put("peer_address", p.address())
          .put("active", p.active())
          .put("opened", p.opened())
          .put("bytes", p.bytesIn() + p.bytesOut())
          .put("bytes_in", p.bytesIn())
          .put("bytes_out", p.bytesOut())
          .put("bytes_in_per_s", round(p.bytesInPerSec()))
          .put("bytes_out_per_s", round(p.bytesOutPerSec()))
          .put("rtt_p50_us", p.rttP50Micros())
          .put("rtt_p99_us", p.rttP99Micros()));
    }
    return new JsonObject().put("window_s", round(v.stats().windowSeconds()))
        .put("peers_tracked", v.stats().agent().peersTracked())
        .put("peers", peers);
  }

  /** {@code /api/history}: one host-wide point per second for the last minutes, oldest first. */
  public static JsonObject history(LiveState.View v) {
    JsonArray points = new JsonArray();
    for (TrafficStats.HistoryPoint p : v.stats().history()) {
      points.add(new JsonObject()
          .put("time", p.epochMillis())
          .put("active", p.active())
          .put("opened_per_s", round(p.openedPerSec()))
          .put("closed_per_s", round(p.closedPerSec()))
          .put("bytes_in_per_s", round(p.bytesInPerSec()))
          .put("bytes_out_per_s", round(p.bytesOutPerSec()))
          .put("rtt_p50_us", p.rttP50Micros())
          .put("rtt_p99_us", p.rttP99Micros())
          .put("accept_queue", p.acceptQueue())
          .put("accept_queue_limit", p.acceptQueueLimit())
          .put("events_per_s", round(p.eventsPerSec()))
          .put("poll_lag_ms", round(p.pollLagMillis())));
    }
    return new JsonObject().put("points", points);
  }

  /** {@code /api/agent}: the agent itself (self-telemetry). */
  public static JsonObject agent(StatusSource source) {
    LiveState.View v = source.view();
    TrafficStats.AgentStats a = v.stats().agent();
    long now = System.currentTimeMillis();
    var mem = ManagementFactory.getMemoryMXBean();
    MemoryUsage heap = mem.getHeapMemoryUsage();
    MemoryUsage nonHeap = mem.getNonHeapMemoryUsage();
    long started = a.startedEpochMillis() > 0 ? a.startedEpochMillis()
        : ManagementFactory.getRuntimeMXBean().getStartTime();
    List<String> notReady = source.notReady();
    return new JsonObject()
        .put("version", BuildInfo.current().version())
        .put("commit", BuildInfo.current().commit())
        .put("pid", ProcessHandle.current().pid())
        .put("started", Instant.ofEpochMilli(started).toString())
        .put("uptime_s", round((now - started) / 1000.0))
        .put("ready", notReady.isEmpty())
        .put("not_ready", new JsonArray(new ArrayList<>(notReady)))
        .put("poll_interval_ms", source.pollIntervalMillis())
        .put("events", a.events())
        .put("events_per_s", round(a.eventsPerSec()))
        .put("poll_lag_ms", round(a.pollLagMillis()))
        .put("poll_lag_max_ms", round(a.pollLagMaxMillis()))
        .put("events_dropped", new JsonObject(new TreeMap<>(new HashMap<String, Object>(v.dropped()))))
        .put("export_failures", new JsonObject(new TreeMap<>(new HashMap<String, Object>(source.exportFailures()))))
        .put("spans_dropped", source.spansDropped())
        .put("kernel_features", kernelFeatures(source))
        .put("http", http(source.httpStats()))
        .put("requests", requestCounters(source.requestCounters()))
        .put("degraded_features", featureIds(source.degradedFeatures()))
        .put("open_connections", v.connections().size())
        .put("peers_tracked", a.peersTracked())
        .put("peers_evicted", a.peersEvicted())
        .put("jvm", new JsonObject()
            .put("heap_used_bytes", heap.getUsed())
            .put("heap_committed_bytes", heap.getCommitted())
            .put("heap_max_bytes", heap.getMax())
            .put("non_heap_used_bytes", nonHeap.getUsed())
            .put("threads", ManagementFactory.getThreadMXBean().getThreadCount()));
  }

  /** {"tracked_iter": {"state": "degraded", "cause": "...", "consequence": "..."}, ...} in table order. */
  static JsonObject kernelFeatures(StatusSource source) {
    JsonObject out = new JsonObject();
    source.kernelFeatures().values().stream().sorted(java.util.Comparator.comparing(FeatureStatus::feature))
        .forEach(f -> {
          JsonObject o = new JsonObject().put("state", f.state().label());
          if (!f.ok()) {
            o.put("cause", f.cause()).put("consequence", f.feature().consequence());
          }
          out.put(f.feature().id(), o);
        });
    return out;
  }

  /** Request framing's counts (null without request capture). */
  static JsonObject requestCounters(RequestTracker.Counters c) {
    return c == null ? null : new JsonObject().put("exchanges", c.exchanges()).put("websocket_messages", c.messages())
        .put("desyncs", c.desyncs()).put("unmatched_requests", c.unmatchedRequests())
        .put("unmatched_responses", c.unmatchedResponses()).put("unknown_connection", c.unknownConnection())
        .put("tls_connections", c.tlsConnections());
  }

  /** {@code /api/requests}: the most recent slow (at least 1 s) or failed (5xx, no or cut response) requests, newest first. */
  public static JsonObject requests(StatusSource source, int limit) {
    List<RequestStats.Recent> recent = source.requestStats().recent();
    JsonArray rows = new JsonArray();
    for (int i = recent.size() - 1; i >= 0 && rows.size() < limit; i--) {
      RequestStats.Recent r = recent.get(i);
      rows.add(new JsonObject().put("start", Instant.ofEpochSecond(0, r.startEpochNanos()).toString())
          .put("method", r.method()).put("path", r.path()).put("status", r.status())
          .put("duration_ms", round(r.durationMillis())).put("error_type", r.errorType()).put("pid", r.pid())
          .put("name", r.workerName()).put("client", r.client()));
    }
    return new JsonObject().put("slow_ms", RequestStats.SLOW_NANOS / 1_000_000).put("count", rows.size())
        .put("capturing", source.requestCounters() != null).put("requests", rows);
  }

  /** The HTTP server's limits at work (null without a server). */
  static JsonObject http(dev.wmscope.agent.http.HttpServerVerticle.ConnectionStats h) {
    return h == null ? null : new JsonObject().put("connections_open", h.open())
        .put("connections_refused", h.refused()).put("connections_timed_out", h.timedOut())
        .put("requests_refused", h.requestsRefused());
  }

  /** The features' ids as a JSON array. */
  public static JsonArray featureIds(List<FeatureStatus> features) {
    return new JsonArray(features.stream().map(f -> (Object) f.feature().id()).toList());
  }

  static double round(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return 0;
    }
    return Math.round(d * 100) / 100.0;
  }
}
