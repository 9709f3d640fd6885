package dev.wmscope.agent.topology;

import dev.wmscope.agent.discovery.ListenUri;
import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.agent.probe.TrafficStats;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.WorkerIdentity;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Client connections opened per process, counted and rated the way the worker rows count
 * {@code opened} and {@code opened_per_s} (a {@link TrafficStats} of its own: the same window,
 * marks and rules), but only for client connections: accepted (server side), not internal, on the
 * listener in the process's title. A Gateway's links from BusinessWorkers on its lan port and its
 * own link to the Register are never counted; the topology reads the figures of its Gateways.
 *
 * <p>Its {@link TrafficStats} is fed a bare event per connection (the owner's pid, no peer, no
 * RTT), so it keeps one aggregate per process and none per client address or RTT slot. Adopted
 * connections (open before the agent watched them) were not opened while watched and are left
 * out, as the worker rows leave them out of {@code opened}.
 *
 * <p>Thread-safety: {@link #opened}/{@link #closed} on the poll thread, {@link #tick} and
 * {@link #snapshot} on the topology's; every method holds this object's lock (uncontended but
 * for one tick a poll interval).
 */
public final class GatewayClients implements ConnectionListener {
  /** Distinct listen texts whose port is remembered (titles are few; a bound all the same). */
  private static final int MAX_LISTEN_PORTS = 1024;

  private final LongSupplier nanoClock;
  private final TrafficStats stats;
  private final Map<String, Integer> titlePorts = new HashMap<>();

  public GatewayClients() {
    this(System::nanoTime);
  }

  /** @param nanoClock monotonic nanoseconds (tests step it by hand) */
  public GatewayClients(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.stats = new TrafficStats(nanoClock.getAsLong(), System.currentTimeMillis());
  }

  @Override
  public synchronized void opened(ConnectionEvent e) {
    if (counts(e)) {
      stats.opened(bare(e), nanoClock.getAsLong());
    }
  }

  @Override
  public synchronized void closed(ConnectionEvent e) {
    if (counts(e)) {
      stats.closed(bare(e), true, 0, 0, 0, nanoClock.getAsLong());
    }
  }

  /** Records the per-second marks the rates start from: call about once a second (each poll interval). */
  public synchronized void tick() {
    stats.tick(nanoClock.getAsLong(), System.currentTimeMillis(), 0, 0);
  }

  /** Per pid: {@code opened} (since the agent started) and {@code openedPerSec} (over the window). */
  public synchronized TrafficStats.Snapshot snapshot() {
    return stats.snapshot(nanoClock.getAsLong());
  }

  /** A client connection: accepted, not internal, on its owner's title listener; not adopted. */
  private boolean counts(ConnectionEvent e) {
    WorkerIdentity w = e.worker();
    return e.side() == ConnectionEvent.Side.SERVER && !e.internal() && !e.preexisting() && e.pid() > 0 && w != null
        && e.localPort() == titlePort(w.listen());
  }

  private int titlePort(String listen) {
    Integer port = titlePorts.get(listen);
    if (port == null) {
      if (titlePorts.size() >= MAX_LISTEN_PORTS) {
        titlePorts.clear();
      }
      port = ListenUri.parse(listen).map(ListenUri::port).orElse(ListenUri.NO_PORT);
      titlePorts.put(listen, port);
    }
    return port;
  }

  /** Only what the counts need: whose it is. */
  private static ConnectionEvent bare(ConnectionEvent e) {
    return new ConnectionEvent(e.side(), false, "", e.localPort(), "", 0, 0, 0, 0, 0, 0, 0, 0, 0, e.pid(), "",
        null, false);
  }
}
