package dev.wmscope.agent.topology;

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

/**
 * A hand-built GatewayWorker app for topology tests: a Register (pid 10, port 1236), Gateways
 * (client port 7272, lan port 2900) and BusinessWorkers, each link tracked on both ends, and
 * clients on the Gateways' client port. {@link #view()} and {@link #directory()} are what the
 * agent's live state and discovery would give.
 */
public final class GatewayApp {
  public static final long MASTER = 1;
  public static final long REGISTER = 10;
  public static final int REGISTER_PORT = 1236;
  public static final int CLIENT_PORT = 7272;
  public static final int LAN_PORT = 2900;

  private final Map<Long, WorkerIdentity> dir = new HashMap<>();
  private final List<LiveState.OpenConn> conns = new ArrayList<>();
  private final AtomicLong cookies = new AtomicLong(100);
  private int nextClientPort = 50_000;

  /** A Register 10, a Gateway and a BusinessWorker, all linked. */
  public GatewayApp linked(long gateway, long business) {
    dir.put(REGISTER, worker("ChatRegister", "text://127.0.0.1:" + REGISTER_PORT));
    dir.put(gateway, worker("ChatGateway", "websocket://127.0.0.1:" + CLIENT_PORT));
    dir.put(business, worker("ChatBusinessWorker", "none"));
    link(gateway, REGISTER, REGISTER_PORT);
    link(business, REGISTER, REGISTER_PORT);
    link(business, gateway, LAN_PORT);
    return this;
  }

  /** A process of the app as discovery names it. */
  public GatewayApp process(long pid, String name, String listen) {
    dir.put(pid, worker(name, listen));
    return this;
  }

  /** A link from client to server's port, both ends tracked and internal. */
  public GatewayApp link(long client, long server, int port) {
    int clientPort = nextClientPort++;
    conns.add(open(ConnectionEvent.Side.CLIENT, clientPort, port, client, true));
    conns.add(open(ConnectionEvent.Side.SERVER, port, clientPort, server, true));
    return this;
  }

  /** A client (not internal) of the gateway on its client port; its open event. */
  public ConnectionEvent client(long gateway) {
    return accepted(gateway, CLIENT_PORT, false);
  }

  /** A connection the process accepted on a port of its own; its open event. */
  public ConnectionEvent accepted(long pid, int port, boolean internal) {
    LiveState.OpenConn c = open(ConnectionEvent.Side.SERVER, port, nextClientPort++, pid, internal);
    conns.add(c);
    return c.event();
  }

  /** The process exits: it leaves the directory, its links close on both ends. */
  public void kill(long pid) {
    dir.remove(pid);
    List<LiveState.OpenConn> own = conns.stream().filter(c -> c.event().pid() == pid).toList();
    conns.removeIf(c -> own.stream().anyMatch(o -> o.event().localPort() == c.event().peerPort()
        && o.event().peerPort() == c.event().localPort()));
    conns.removeAll(own);
  }

  public LiveState.View view() {
    return new LiveState.View(0, List.copyOf(conns), List.of(), List.of(), List.of(), Map.of(),
        TrafficStats.Snapshot.EMPTY);
  }

  public Map<Long, WorkerIdentity> directory() {
    return Map.copyOf(dir);
  }

  public WorkerIdentity identity(long pid) {
    return dir.get(pid);
  }

  private LiveState.OpenConn open(ConnectionEvent.Side side, int localPort, int peerPort, long pid, boolean internal) {
    ConnectionEvent e = new ConnectionEvent(side, false, "127.0.0.1", localPort, "127.0.0.1", peerPort,
        1_700_000_000_000_000_000L, 0, 0, 0, 0, 0, 50, 0, pid, "php", dir.get(pid), internal);
    return new LiveState.OpenConn(e, cookies.incrementAndGet(), 0, 0, 0, 50, 0, 0, -1, 0);
  }

  /** A worker named as discovery names it: its role from its name and listener, as WorkermanRole gives. */
  private static WorkerIdentity worker(String name, String listen) {
    String role = WorkermanRole.ofWorker(name, ListenUri.parse(listen)).attributeValue();
    return new WorkerIdentity(name, listen, MASTER, "/srv/chat/start.php", role);
  }
}
