package dev.wmscope.loader;

import java.util.List;

/** One iterator pass: every tracked open connection's counters and every watched listener. */
public record LiveSnapshot(long monoNanos, List<LiveConn> connections, List<ListenerState> listeners) {
  public LiveSnapshot {
    connections = List.copyOf(connections);
    listeners = List.copyOf(listeners);
  }
}
