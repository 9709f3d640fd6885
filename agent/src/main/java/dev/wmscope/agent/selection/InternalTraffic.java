package dev.wmscope.agent.selection;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Marks connections between two watched processes on this host (gateway to business worker,
 * worker to register) as internal, so they are never summed with client traffic.
 *
 * <ul>
 *   <li>A client-side connection is internal when its peer is a local address and the peer
 *       port is one wmscope watches (a watched server on this host). Decided at open and kept
 *       by cookie until it closes, so a port unwatched meanwhile cannot flip it (open and
 *       close must agree, or the active-connection gauge drifts).
 *   <li>A server-side connection is internal when its peer is a local address and the peer
 *       endpoint is the local end of an open client-side connection of a watched process. The
 *       client's open record precedes the server's in the ring buffer (the client reaches
 *       ESTABLISHED first), so the decision is made when the server side opens and kept by
 *       cookie until it closes.
 * </ul>
 * Used from the poll thread; watched ports are read from the discovery pass.
 */
public final class InternalTraffic {
  private final LocalAddresses local;
  private volatile Set<Integer> watchedPorts = Set.of();
  private final Set<InetSocketAddress> openClientEnds = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<Long, Boolean> decisions = new ConcurrentHashMap<>();

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
  public void expectClient(InetSocketAddress localEnd) {
    openClientEnds.add(localEnd);
  }

  /** Classifies at open and remembers what a later close needs. */
  public boolean opened(long cookie, boolean serverSide, InetAddress localAddr, int localPort,
      InetAddress peerAddr, int peerPort) {
    boolean internal;
    if (serverSide) {
      internal = local.isLocal(peerAddr) && openClientEnds.contains(new InetSocketAddress(peerAddr, peerPort));
    } else {
      openClientEnds.add(new InetSocketAddress(localAddr, localPort));
      internal = clientInternal(peerAddr, peerPort);
    }
    decisions.put(cookie, internal);
    return internal;
  }

  /** The decision for a closing connection; forgets it. */
  public boolean closed(long cookie, boolean serverSide, InetAddress localAddr, int localPort,
      InetAddress peerAddr, int peerPort) {
    Boolean decided = decisions.remove(cookie);
    if (!serverSide) {
      openClientEnds.remove(new InetSocketAddress(localAddr, localPort));
      // a client connection that never opened (refused, timed out) is decided now
      return decided != null ? decided : clientInternal(peerAddr, peerPort);
    }
    return decided != null && decided;
  }

  private boolean clientInternal(InetAddress peerAddr, int peerPort) {
    return local.isLocal(peerAddr) && watchedPorts.contains(peerPort);
  }
}
