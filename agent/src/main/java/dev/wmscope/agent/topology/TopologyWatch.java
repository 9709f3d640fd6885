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
 * re-fork does not cry wolf) and when it is back, and counts reconnects (a new connection between
 * the same two processes after the first one).
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

  private final Supplier<LiveState.View> live;
  private final Supplier<Map<Long, WorkerIdentity>> directory;
  private volatile Listener listener;
  private final Map<String, Integer> missingTicks = new HashMap<>();
  private final Map<String, Long> missingSince = new HashMap<>();
  private final Set<String> reported = new HashSet<>();
  private final Map<String, Set<Long>> cookiesByPair = new HashMap<>();
  private final Map<String, Long> reconnectsByPair = new HashMap<>();
  private volatile List<GatewayTopology.App> apps = List.of();
  private volatile Map<String, Long> reconnectsView = Map.of();
  private volatile Set<String> missingView = Set.of();
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

  public TopologyWatch(Supplier<LiveState.View> live, Supplier<Map<Long, WorkerIdentity>> directory,
      Listener listener) {
    this.live = live;
    this.directory = directory;
    this.listener = listener;
  }

  /** Where reconnects are counted (set once the telemetry exists). */
  public void listener(Listener l) {
    this.listener = l;
  }

  public synchronized void tick() {
    long now = System.nanoTime();
    Map<Long, WorkerIdentity> dir = directory.get();
    List<GatewayTopology.App> found = GatewayTopology.of(live.get(), dir);
    Set<String> current = new HashSet<>();
    for (GatewayTopology.App app : found) {
      for (GatewayTopology.Missing m : app.missing()) {
        String key = m.clientPid() + ">" + m.serverPid();
        current.add(key);
        int ticks = missingTicks.merge(key, 1, Integer::sum);
        missingSince.putIfAbsent(key, now);
        if (ticks == MISSING_AFTER_TICKS && reported.add(key)) {
          LOG.log(System.Logger.Level.WARNING, "GatewayWorker {0}: {1} has no link to {2}", app.startFile(),
              who(m.clientPid(), m.clientRole(), dir), who(m.serverPid(), m.serverRole(), dir));
        }
      }
      for (GatewayTopology.Link l : app.links()) {
        String pair = l.clientPid() + ">" + l.serverPid();
        Set<Long> seen = cookiesByPair.computeIfAbsent(pair, p -> new HashSet<>());
        if (seen.add(l.cookie()) && seen.size() > 1) {
          reconnectsByPair.merge(pair, 1L, Long::sum);
          Listener to = listener;
          if (to != null) {
            to.reconnected(l.clientRole(), l.serverRole());
          }
        }
        String key = l.clientPid() + ">" + l.serverPid();
        if (reported.remove(key)) {
          LOG.log(System.Logger.Level.INFO, "GatewayWorker {0}: {1} linked to {2} again after {3} s", app.startFile(),
              who(l.clientPid(), l.clientRole(), dir), who(l.serverPid(), l.serverRole(), dir),
              String.format(java.util.Locale.ROOT, "%.1f", (now - missingSince.getOrDefault(key, now)) / 1e9));
        }
      }
    }
    // forget what is neither missing nor reported any more (a pid that exited takes its pairs along)
    missingTicks.keySet().retainAll(current);
    missingSince.keySet().removeIf(k -> !current.contains(k) && !reported.contains(k));
    reported.removeIf(k -> {
      String[] p = k.split(">");
      boolean gone = !dir.containsKey(Long.parseLong(p[0])) || !dir.containsKey(Long.parseLong(p[1]));
      if (gone) {
        missingSince.remove(k);
      }
      return gone;
    });
    cookiesByPair.keySet().removeIf(k -> {
      String[] p = k.split(">");
      return !dir.containsKey(Long.parseLong(p[0])) || !dir.containsKey(Long.parseLong(p[1]));
    });
    apps = List.copyOf(found);
    reconnectsView = Map.copyOf(reconnectsByPair);
    Set<String> missing = new HashSet<>();
    missingTicks.forEach((k, n) -> {
      if (n >= MISSING_AFTER_TICKS) {
        missing.add(k);
      }
    });
    missingView = Set.copyOf(missing);
    List<dev.wmscope.otel.GatewayTelemetry.Gateway> gw = new java.util.ArrayList<>();
    Map<String, long[]> byPair = new java.util.TreeMap<>(); // links, max rtt us, backlog, missing
    for (GatewayTopology.App app : found) {
      for (GatewayTopology.Node n : app.nodes()) {
        if (n.role().equals(GatewayTopology.GATEWAY)) {
          gw.add(new dev.wmscope.otel.GatewayTelemetry.Gateway(n.pid(), n.name(), n.clients()));
        }
      }
      for (GatewayTopology.Link l : app.links()) {
        long[] a = byPair.computeIfAbsent(l.clientRole() + ">" + l.serverRole(), k -> new long[4]);
        a[0]++;
        a[1] = Math.max(a[1], l.rttMicros());
        a[2] += l.unackedBytes() + l.unreadBytes();
      }
      for (GatewayTopology.Missing m : app.missing()) {
        long[] a = byPair.computeIfAbsent(m.clientRole() + ">" + m.serverRole(), k -> new long[4]);
        if (missing.contains(m.clientPid() + ">" + m.serverPid())) {
          a[3]++;
        }
      }
    }
    List<dev.wmscope.otel.GatewayTelemetry.RolePair> pairs = new java.util.ArrayList<>();
    byPair.forEach((k, a) -> {
      String[] r = k.split(">");
      pairs.add(new dev.wmscope.otel.GatewayTelemetry.RolePair(r[0], r[1], a[0], a[1] / 1e6, a[2], a[3]));
    });
    gatewaysView = List.copyOf(gw);
    pairsView = List.copyOf(pairs);
  }

  /** The GatewayWorker apps as of the last tick. */
  public List<GatewayTopology.App> apps() {
    return apps;
  }

  /** Reconnects between two processes ("clientPid>serverPid") since the agent started. */
  public long reconnects(long clientPid, long serverPid) {
    return reconnectsView.getOrDefault(clientPid + ">" + serverPid, 0L);
  }

  /** Whether an expected link counts as missing now (missing for two ticks or more). */
  public boolean reportedMissing(long clientPid, long serverPid) {
    return missingView.contains(clientPid + ">" + serverPid);
  }

  private static String who(long pid, String role, Map<Long, WorkerIdentity> dir) {
    WorkerIdentity w = dir.get(pid);
    return (w == null ? role : w.workerName()) + "[" + pid + "]";
  }
}
