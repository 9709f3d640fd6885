package dev.wmscope.agent.topology;

import dev.wmscope.agent.discovery.ListenUri;
import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.probe.TrafficStats;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.WorkerIdentity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * GatewayWorker apps as the connections show them: per app (one master), its Register, Gateways
 * and BusinessWorkers, and the internal links between them with their health.
 *
 * <p>Roles come from the names discovery gave (workerman.role) and, for a worker whose name says
 * nothing, from what it does: a process without a listener that links to other watched processes
 * is a BusinessWorker; a process with a listener in its title that also accepts internal links on
 * another port (its lan port) is a Gateway; a text:// listener that accepts internal links and
 * nothing else is the Register. GatewayWorker's own rules give the expected links: every
 * BusinessWorker to every Gateway process, and every Gateway and BusinessWorker to the Register
 * when the app runs one. A link it expects but that is not there is reported as missing.
 *
 * <p>Pure: built from one live view, the directory and the client opens per process
 * ({@link GatewayClients}).
 */
public final class GatewayTopology {
  private GatewayTopology() {}

  /**
   * One process of the app.
   *
   * @param clients             client connections it holds now on its title listener (gateways; 0 otherwise)
   * @param clientsOpened       client connections it accepted since the agent started (gateways; 0 otherwise)
   * @param clientsOpenedPerSec of those, opened per second over the rate window (gateways; 0 otherwise)
   */
  public record Node(long pid, String name, String role, String listen, Set<Integer> innerPorts, long clients,
      long clientsOpened, double clientsOpenedPerSec) {}

  /**
   * One internal link, seen from both ends where both are tracked.
   *
   * @param unackedBytes sent by the client end and not acknowledged yet
   * @param unreadBytes  received at the server end and not read by the server yet
   */
  public record Link(long clientPid, String clientRole, long serverPid, String serverRole, String serverAddress,
      int serverPort, long rttMicros, long unackedBytes, long unreadBytes, long startEpochNanos, long cookie) {}

  /** An expected link that is not there: the client process should be linked to the server process. */
  public record Missing(long clientPid, String clientRole, long serverPid, String serverRole) {}

  /** One GatewayWorker app. */
  public record App(long masterPid, String startFile, List<Node> nodes, List<Link> links, List<Missing> missing) {
    public boolean isGatewayWorker() {
      return nodes.stream().anyMatch(n -> n.role().equals(GATEWAY) || n.role().equals(BUSINESS));
    }
  }

  public static final String GATEWAY = "gateway";
  public static final String BUSINESS = "business_worker";
  public static final String REGISTER = "register";

  /**
   * The GatewayWorker apps among the watched processes (apps without gateways or business workers
   * are left out).
   *
   * @param clientOpens client connections opened, by pid ({@link GatewayClients#snapshot})
   */
  public static List<App> of(LiveState.View view, Map<Long, WorkerIdentity> directory,
      Map<Long, TrafficStats.OwnerStats> clientOpens) {
    Map<Long, List<Long>> byMaster = new TreeMap<>();
    directory.forEach((pid, w) -> {
      if (w != null && !w.role().equals("master")) {
        byMaster.computeIfAbsent(w.masterPid(), m -> new ArrayList<>()).add(pid);
      }
    });
    List<App> out = new ArrayList<>();
    for (var e : byMaster.entrySet()) {
      App app = app(e.getKey(), new TreeSet<>(e.getValue()), view, directory, clientOpens);
      if (app.isGatewayWorker()) {
        out.add(app);
      }
    }
    return out;
  }

  private static App app(long master, Set<Long> pids, LiveState.View view, Map<Long, WorkerIdentity> directory,
      Map<Long, TrafficStats.OwnerStats> clientOpens) {
    Map<Long, Integer> titlePort = new HashMap<>();
    for (long pid : pids) {
      titlePort.put(pid, ListenUri.parse(directory.get(pid).listen()).map(ListenUri::port).orElse(-1));
    }
    // internal client ends of this app's processes, keyed by their local endpoint, to pair the ends
    Map<String, LiveState.OpenConn> clientEnds = new HashMap<>();
    Map<String, LiveState.OpenConn> serverEnds = new HashMap<>();
    Map<Long, Long> clients = new HashMap<>();
    Map<Long, Set<Integer>> inner = new HashMap<>();
    Map<Long, Boolean> acceptsOnTitle = new HashMap<>();
    Map<Long, Boolean> linksOut = new HashMap<>();
    for (LiveState.OpenConn c : view.connections()) {
      ConnectionEvent ev = c.event();
      if (!pids.contains(ev.pid())) {
        continue;
      }
      if (ev.side() == ConnectionEvent.Side.SERVER) {
        if (!ev.internal()) {
          if (ev.localPort() == titlePort.get(ev.pid())) {
            clients.merge(ev.pid(), 1L, Long::sum);
          }
          continue;
        }
        serverEnds.put(endpoint(ev.peerAddress(), ev.peerPort()), c);
        if (ev.localPort() == titlePort.get(ev.pid())) {
          acceptsOnTitle.put(ev.pid(), true);
        } else {
          inner.computeIfAbsent(ev.pid(), p -> new TreeSet<>()).add(ev.localPort());
        }
      } else if (ev.internal()) {
        clientEnds.put(endpoint(ev.localAddress(), ev.localPort()), c);
        linksOut.put(ev.pid(), true);
      }
    }
    Map<Long, String> role = new LinkedHashMap<>();
    for (long pid : pids) {
      WorkerIdentity w = directory.get(pid);
      String r = w.role();
      if (r.equals("worker")) {
        boolean listens = titlePort.get(pid) > 0;
        if (!listens && linksOut.getOrDefault(pid, false)) {
          r = BUSINESS;
        } else if (listens && inner.containsKey(pid)) {
          r = GATEWAY;
        } else if (listens && w.listen().startsWith("text://") && acceptsOnTitle.getOrDefault(pid, false)
            && !linksOut.getOrDefault(pid, false)) {
          r = REGISTER;
        }
      }
      role.put(pid, r);
    }
    List<Node> nodes = new ArrayList<>();
    for (long pid : pids) {
      WorkerIdentity w = directory.get(pid);
      boolean gateway = role.get(pid).equals(GATEWAY);
      TrafficStats.OwnerStats opens = gateway ? clientOpens.get(pid) : null;
      nodes.add(new Node(pid, w.workerName(), role.get(pid), w.listen(), inner.getOrDefault(pid, Set.of()),
          gateway ? clients.getOrDefault(pid, 0L) : 0, opens == null ? 0 : opens.opened(),
          opens == null ? 0 : opens.openedPerSec()));
    }
    nodes.sort(Comparator.comparing((Node n) -> order(n.role())).thenComparing(Node::name).thenComparing(Node::pid));
    // links: every internal client end of the app to a server in the app, paired with its server end
    List<Link> links = new ArrayList<>();
    Map<Long, Set<Long>> linked = new HashMap<>();
    for (var ce : clientEnds.entrySet()) {
      ConnectionEvent c = ce.getValue().event();
      LiveState.OpenConn server = serverEnds.get(ce.getKey());
      long serverPid = server != null ? server.event().pid() : ownerOfPort(c.peerPort(), titlePort, inner);
      if (serverPid <= 0) {
        continue; // a link out of the app (another app's register, a database)
      }
      linked.computeIfAbsent(c.pid(), p -> new TreeSet<>()).add(serverPid);
      links.add(new Link(c.pid(), role.get(c.pid()), serverPid, role.getOrDefault(serverPid, "worker"),
          c.peerAddress(), c.peerPort(),
          ce.getValue().srttMicros(), ce.getValue().sndQueue(), server == null ? 0 : server.rcvQueue(),
          c.startEpochNanos(), ce.getValue().cookie()));
    }
    links.sort(Comparator.comparingLong(Link::clientPid).thenComparingLong(Link::serverPid));
    // expected by GatewayWorker: business -> every gateway process; gateway and business -> the register
    List<Missing> missing = new ArrayList<>();
    List<Long> gateways = pidsWith(role, GATEWAY);
    List<Long> registers = pidsWith(role, REGISTER);
    for (long b : pidsWith(role, BUSINESS)) {
      for (long g : gateways) {
        if (!linked.getOrDefault(b, Set.of()).contains(g)) {
          missing.add(new Missing(b, BUSINESS, g, GATEWAY));
        }
      }
    }
    if (registers.size() == 1) {
      long reg = registers.getFirst();
      for (long p : role.keySet()) {
        String r = role.get(p);
        if ((r.equals(BUSINESS) || r.equals(GATEWAY)) && !linked.getOrDefault(p, Set.of()).contains(reg)) {
          missing.add(new Missing(p, r, reg, REGISTER));
        }
      }
    }
    String startFile = directory.get(pids.iterator().next()).startFile();
    return new App(master, startFile, nodes, links, missing);
  }

  private static long ownerOfPort(int port, Map<Long, Integer> titlePort, Map<Long, Set<Integer>> inner) {
    for (var e : inner.entrySet()) {
      if (e.getValue().contains(port)) {
        return e.getKey();
      }
    }
    long owner = -1;
    for (var e : titlePort.entrySet()) {
      if (e.getValue() == port) {
        if (owner > 0) {
          return -1; // a shared listener: which process accepted is not known from this end
        }
        owner = e.getKey();
      }
    }
    return owner;
  }

  private static List<Long> pidsWith(Map<Long, String> role, String r) {
    return role.entrySet().stream().filter(e -> e.getValue().equals(r)).map(Map.Entry::getKey).toList();
  }

  private static int order(String role) {
    return switch (role) {
      case REGISTER -> 0;
      case GATEWAY -> 1;
      case BUSINESS -> 2;
      default -> 3;
    };
  }

  private static String endpoint(String address, int port) {
    return address + "|" + port;
  }
}
