package dev.wmscope.agent.selection;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * Marks connections between two watched processes on this host (gateway to business worker,
 * worker to register) as internal, so they are never summed with client traffic.
 *
 * <ul>
 *   <li>A client-side connection is internal when its peer is a local address and the peer
 *       port is one wmscope watches (a watched server on this host). Decided at open and kept
 *       by cookie until it closes, so a port unwatched meanwhile cannot flip it (open and
 *       close must agree, or the active-connection gauge drifts).
 *   <li>A server-side connection is internal when its peer is a local address and its two
 *       endpoints are those of an open client-side connection of a watched process. The
 *       client's open record precedes the server's in the ring buffer (the client reaches
 *       ESTABLISHED first), so the decision is usually made when the server side opens.
 *       Not when the client end is adopted later (a BusinessWorker links to a Gateway right
 *       after its fork, before discovery watches it): its server end opened as client traffic
 *       and turns internal when that client end opens ({@link #drainTurnedInternal}); it stays
 *       internal, by cookie, until it closes.
 *   <li>The other way round, a client end that opened to a port not watched yet (a
 *       BusinessWorker reconnects to a restarted Gateway's inner port before discovery has
 *       seen the new listener) turns internal when its server end opens internal.
 * </ul>
 * Used from the poll thread; watched ports are read from the discovery pass.
 */
public final class InternalTraffic {
  private final LocalAddresses local;
  private volatile Set<Integer> watchedPorts = Set.of();
  /**
   * The open client ends of watched processes, by both endpoints: not by the client's endpoint
   * alone, since the kernel gives one local port to connections to different servers (a local
   * proxy's connection to a Gateway may share the port of a BusinessWorker's link).
   */
  private final Set<Link> openClientEnds = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<Long, Boolean> decisions = new ConcurrentHashMap<>();
  /** Open server ends with a peer on this host decided not internal, by both endpoints: their cookie. */
  private final Map<Link, Long> loopbackServerEnds = new HashMap<>();
  /** Open client ends to this host decided not internal (the port not watched at their open). */
  private final Map<Link, Long> loopbackClientEnds = new HashMap<>();
  /** Bound on each of the late-link maps (an entry per open loopback connection). */
  static final int MAX_LATE_LINK_ENDS = 65_536;
  /** Ends turned internal since the last drain. */
  private final List<Long> turnedInternal = new ArrayList<>();

  public InternalTraffic(LocalAddresses local) {
    this.local = local;
  }

  public void setWatchedPorts(Set<Integer> ports) {
    watchedPorts = Set.copyOf(ports);
  }

  /**
   * A client end the next live read adopts (see {@link ClientAdoption}): a server end whose
   * peer it is counts as internal from now on, even when its record comes first.
   */
  public void expectClient(InetSocketAddress localEnd, InetSocketAddress remoteEnd) {
    openClientEnds.add(new Link(localEnd.getAddress(), localEnd.getPort(), remoteEnd.getAddress(),
        remoteEnd.getPort()));
  }

  /** Classifies at open and remembers what a later close needs. */
  public boolean opened(long cookie, boolean serverSide, InetAddress localAddr, int localPort,
      InetAddress peerAddr, int peerPort) {
    boolean internal;
    if (serverSide) {
      if (local.isLocal(peerAddr)) {
        Link link = new Link(peerAddr, peerPort, localAddr, localPort);
        internal = openClientEnds.contains(link);
        if (internal && !loopbackClientEnds.isEmpty()) {
          turn(loopbackClientEnds.remove(link));
        }
        if (!internal) {
          if (loopbackServerEnds.size() >= MAX_LATE_LINK_ENDS) {
            loopbackServerEnds.clear(); // closes lost: those ends can no longer turn internal late
          }
          loopbackServerEnds.put(link, cookie);
        }
      } else {
        internal = false;
      }
    } else {
      Link link = new Link(localAddr, localPort, peerAddr, peerPort);
      openClientEnds.add(link);
      internal = clientInternal(peerAddr, peerPort);
      if (!loopbackServerEnds.isEmpty()) {
        turn(loopbackServerEnds.remove(link));
      }
      if (!internal && local.isLocal(peerAddr)) {
        if (loopbackClientEnds.size() >= MAX_LATE_LINK_ENDS) {
          loopbackClientEnds.clear();
        }
        loopbackClientEnds.put(link, cookie);
      }
    }
    decisions.put(cookie, internal);
    return internal;
  }

  /** Turns the open end decided not internal with this cookie (null: none) internal. */
  private void turn(Long cookie) {
    if (cookie != null && decisions.replace(cookie, false, true)) {
      turnedInternal.add(cookie);
    }
  }

  /**
   * Hands over (and forgets) the open ends that turned internal since the last call: a server end
   * whose client end opened after it, a client end whose server end opened internal after it.
   * Their close is internal from now on; the caller moves what it counts of them while open.
   */
  public void drainTurnedInternal(LongConsumer cookies) {
    if (turnedInternal.isEmpty()) {
      return;
    }
    turnedInternal.forEach(cookies::accept);
    turnedInternal.clear();
  }

  /** The decision for a closing connection; forgets it. */
  public boolean closed(long cookie, boolean serverSide, InetAddress localAddr, int localPort,
      InetAddress peerAddr, int peerPort) {
    Boolean decided = decisions.remove(cookie);
    boolean external = decided != null && !decided;
    if (!serverSide) {
      Link link = new Link(localAddr, localPort, peerAddr, peerPort);
      openClientEnds.remove(link);
      if (external && !loopbackClientEnds.isEmpty()) {
        loopbackClientEnds.remove(link, cookie);
      }
      // a client connection that never opened (refused, timed out) is decided now
      return decided != null ? decided : clientInternal(peerAddr, peerPort);
    }
    if (external && !loopbackServerEnds.isEmpty()) {
      loopbackServerEnds.remove(new Link(peerAddr, peerPort, localAddr, localPort), cookie);
    }
    return decided != null && decided;
  }

  /** A connection by its two endpoints, as either end reports them. */
  private record Link(InetAddress clientAddr, int clientPort, InetAddress serverAddr, int serverPort) {}

  private boolean clientInternal(InetAddress peerAddr, int peerPort) {
    return local.isLocal(peerAddr) && watchedPorts.contains(peerPort);
  }
}
