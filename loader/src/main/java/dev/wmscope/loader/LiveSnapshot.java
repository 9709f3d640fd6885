package dev.wmscope.loader;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One iterator pass: every tracked open connection's counters, every watched listener, and (on
 * a full pass with adoption on) the untracked connections from this host to a watched port on
 * it, which the caller may adopt ({@link ConnectionProbe#adoptClient}) if a watched process
 * holds them.
 */
public record LiveSnapshot(long monoNanos, List<LiveConn> connections, List<ListenerState> listeners,
    List<ClientCandidate> clientCandidates) {

  /** An untracked connection to a watched port of this host ({@code struct wm_client_candidate}). */
  public record ClientCandidate(long cookie, long sockInode, InetSocketAddress local, InetSocketAddress remote) {}

  public LiveSnapshot {
    connections = List.copyOf(connections);
    listeners = List.copyOf(listeners);
    clientCandidates = List.copyOf(clientCandidates);
  }

  public LiveSnapshot(long monoNanos, List<LiveConn> connections, List<ListenerState> listeners) {
    this(monoNanos, connections, listeners, List.of());
  }
}
