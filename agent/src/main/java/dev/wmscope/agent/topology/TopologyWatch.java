package dev.wmscope.agent.topology;

import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.otel.WorkerIdentity;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Keeps the GatewayWorker topology current, one {@link #tick} per poll interval: logs a link the
 * convention expects when it goes missing (after two ticks, so an app's start or a reload's
 * re-fork does not cry wolf) and when it is back, and counts reconnects.
 *
 * <p>A reconnect is a new connection from the same client process to the same server endpoint
 * after its first one: a BusinessWorker whose Gateway was restarted (a new pid on the same lan
 * port) reconnects; a replaced BusinessWorker's first links are not reconnects, it is a new
 * process.
 *
 * <p>{@link #tick} from one thread; {@link #apps()} and the counters from any (immutable snapshots).
 */
public final class TopologyWatch {
  private static final System.Logger LOG = System.getLogger(TopologyWatch.class.getName());
  static final int MISSING_AFTER_TICKS = 2;

  /** Reconnects per client/server role pair since the agent started, for the counter. */
  public interface Listener {
    void reconnected(String clientRole, String serverRole);
  }

  /** An expected link: the client process should be linked to the server process. */
  private record Pair(long clientPid, long serverPid) {
    boolean outlivedBy(Map<Long, WorkerIdentity> dir) {
      return !dir.containsKey(clientPid) || !dir.containsKey(serverPid);
    }
  }

  /** Where a client process's link goes: the server's address and port (stable across its restarts). */
  private record Endpoint(long clientPid, String serverAddress, int serverPort) {
    static Endpoint of(GatewayTopology.Link l) {
      return new Endpoint(l.clientPid(), l.serverAddress(), l.serverPort());
    }
  }

  private final Supplier<LiveState.View> live;
  private final Supplier<Map<Long, WorkerIdentity>> directory;
  private final GatewayClients clients;
  private volatile Listener listener;
  private final Map<Pair, Integer> missingTicks = new HashMap<>();
  private final Map<Pair, Long> missingSince = new HashMap<>();
  private final Set<Pair> reported = new HashSet<>();
  private final Map<Endpoint, Set<Long>> cookiesByEndpoint = new HashMap<>();
  private final Map<Endpoint, Long> reconnectsByEndpoint = new HashMap<>();
  private volatile List<GatewayTopology.App> apps = List.of();
  private volatile double windowSeconds;
  private volatile Map<Endpoint, Long> reconnectsView = Map.of();
  private volatile Set<Pair> missingView = Set.of();
  private volatile List<dev.wmscope.otel.GatewayTelemetry.Gateway> gatewaysView = List.of();
  private volatile List<dev.wmscope.otel.GatewayTelemetry.RolePair> pairsView = List.of();

  /** For {@link dev.wmscope.otel.GatewayTelemetry}: the gateways and role pairs of the last tick. */
  public dev.wmscope.otel.GatewayTelemetry.View telemetryView() {
    return new dev.wmscope.otel.GatewayTelemetry.View() {
      @Override
      public List<dev.wmscope.otel.GatewayTelemetry.Gateway> gateways() {
        return gatewaysView;
      }

      @Override
      public List<dev.wmscope.otel.GatewayTelemetry.RolePair> pairs() {
        return pairsView;
      }
    };
  }

  /**
   * @param clients the client opens per process, fed by the delivery chain (a
   *                {@link dev.wmscope.agent.probe.ConnectionListener}); ticked here
   */
  public TopologyWatch(Supplier<LiveState.View> live, Supplier<Map<Long, WorkerIdentity>> directory,
      GatewayClients clients, Listener listener) {
    this.live = live;
    this.directory = directory;
    this.clients = clients;
    this.listener = listener;
  }

  /** Where reconnects are counted (set once the telemetry exists). */
  public void listener(Listener l) {
    this.listener = l;
  }

  public synchronized void tick() {
    long now = System.nanoTime();
    Map<Long, WorkerIdentity> dir = directory.get();
    clients.tick();
    var opens = clients.snapshot();
    List<GatewayTopology.App> found = GatewayTopology.of(live.get(), dir, opens.owners());
    Set<Pair> current = new HashSet<>();
    for (GatewayTopology.App app : found) {
      for (GatewayTopology.Missing m : app.missing()) {
        Pair key = new Pair(m.clientPid(), m.serverPid());
        current.add(key);
        int ticks = missingTicks.merge(key, 1, Integer::sum);
        missingSince.putIfAbsent(key, now);
        if (ticks == MISSING_AFTER_TICKS && reported.add(key)) {
          LOG.log(System.Logger.Level.WARNING, "GatewayWorker {0}: {1} has no link to {2}", app.startFile(),
              who(m.clientPid(), m.clientRole(), dir), who(m.serverPid(), m.serverRole(), dir));
        }
      }
      for (GatewayTopology.Link l : app.links()) {
        Set<Long> seen = cookiesByEndpoint.computeIfAbsent(Endpoint.of(l), p -> new HashSet<>());
        if (seen.add(l.cookie()) && seen.size() > 1) {
          reconnectsByEndpoint.merge(Endpoint.of(l), 1L, Long::sum);
          Listener to = listener;
          if (to != null) {
            to.reconnected(l.clientRole(), l.serverRole());
          }
        }
        Pair key = new Pair(l.clientPid(), l.serverPid());
        if (reported.remove(key)) {
          LOG.log(System.Logger.Level.INFO, "GatewayWorker {0}: {1} linked to {2} again after {3} s", app.startFile(),
              who(l.clientPid(), l.clientRole(), dir), who(l.serverPid(), l.serverRole(), dir),
              String.format(java.util.Locale.ROOT, "%.1f", (now - missingSince.getOrDefault(key, now)) / 1e9));
        }
      }
    }
    // forget what is neither missing nor reported any more (a pid that exited takes its pairs along)
    missingTicks.keySet().retainAll(current);
    reported.removeIf(k -> k.outlivedBy(dir));
    missingSince.keySet().removeIf(k -> !current.contains(k) && !reported.contains(k));
    cookiesByEndpoint.keySet().removeIf(k -> !dir.containsKey(k.clientPid()));
    reconnectsByEndpoint.keySet().removeIf(k -> !dir.containsKey(k.clientPid()));
    apps = List.copyOf(found);
    windowSeconds = opens.windowSeconds();
    reconnectsView = Map.copyOf(reconnectsByEndpoint);
    Set<Pair> missing = new HashSet<>();
    missingTicks.forEach((k, n) -> {
      if (n >= MISSING_AFTER_TICKS) {
        missing.add(k);
      }
    });
    missingView = Set.copyOf(missing);
    List<dev.wmscope.otel.GatewayTelemetry.Gateway> gw = new java.util.ArrayList<>();
    record Roles(String client, String server) {}
    Map<Roles, long[]> byPair = new java.util.TreeMap<>(java.util.Comparator.comparing(Roles::client)
        .thenComparing(Roles::server)); // links, max rtt us, backlog, missing
    for (GatewayTopology.App app : found) {
      for (GatewayTopology.Node n : app.nodes()) {
        if (n.role().equals(GatewayTopology.GATEWAY)) {
          gw.add(new dev.wmscope.otel.GatewayTelemetry.Gateway(n.pid(), n.name(), n.clients()));
        }
      }
      for (GatewayTopology.Link l : app.links()) {
        long[] a = byPair.computeIfAbsent(new Roles(l.clientRole(), l.serverRole()), k -> new long[4]);
        a[0]++;
        a[1] = Math.max(a[1], l.rttMicros());
        a[2] += l.unackedBytes() + l.unreadBytes();
      }
      for (GatewayTopology.Missing m : app.missing()) {
        long[] a = byPair.computeIfAbsent(new Roles(m.clientRole(), m.serverRole()), k -> new long[4]);
        if (missing.contains(new Pair(m.clientPid(), m.serverPid()))) {
          a[3]++;
        }
      }
    }
    List<dev.wmscope.otel.GatewayTelemetry.RolePair> pairs = new java.util.ArrayList<>();
    byPair.forEach((k, a) -> {
      pairs.add(new dev.wmscope.otel.GatewayTelemetry.RolePair(k.client(), k.server(), a[0], a[1] / 1e6, a[2], a[3]));
    });
    gatewaysView = List.copyOf(gw);
    pairsView = List.copyOf(pairs);
  }

  /** The GatewayWorker apps as of the last tick. */
  public List<GatewayTopology.App> apps() {
    return apps;
  }

  /** The span the gateways' {@code clientsOpenedPerSec} cover as of the last tick (shorter right after start). */
  public double windowSeconds() {
    return windowSeconds;
  }

  /** How often the link's client process reconnected to the link's server endpoint since the agent saw it first. */
  public long reconnects(GatewayTopology.Link link) {
    return reconnectsView.getOrDefault(Endpoint.of(link), 0L);
  }

  /** Whether an expected link counts as missing now (missing for two ticks or more). */
  public boolean reportedMissing(long clientPid, long serverPid) {
    return missingView.contains(new Pair(clientPid, serverPid));
  }

  private static String who(long pid, String role, Map<Long, WorkerIdentity> dir) {
    WorkerIdentity w = dir.get(pid);
    return (w == null ? role : w.workerName()) + "[" + pid + "]";
  }
}
