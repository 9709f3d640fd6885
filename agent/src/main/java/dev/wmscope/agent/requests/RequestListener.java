package dev.wmscope.agent.requests;

import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HttpExchange;
import dev.wmscope.otel.WebSocketOpcode;

/**
 * Receives framed requests and WebSocket messages on the poll thread, after the connection
 * events of the same batch. Must not block for long.
 */
public interface RequestListener {
  void exchange(HttpExchange exchange);

  /**
   * One WebSocket message (a fragmented one once, at its last frame).
   *
   * @param received     true for a message from the client, false for one the worker sent
   * @param payloadBytes the payload size (all fragments)
   */
  void webSocketMessage(ConnectionEvent connection, boolean received, WebSocketOpcode opcode, long payloadBytes);

  /**
   * Requests read and not yet answered change by {@code delta} (+1 when a request's head is
   * read, -1 when it is answered or will not be reported), always under the same identity and
   * method for one request.
   */
  default void activeRequests(ConnectionEvent connection, String method, int delta) {}

  /** Hands each event to every listener in turn. */
  static RequestListener all(java.util.List<RequestListener> listeners) {
    java.util.List<RequestListener> copy = java.util.List.copyOf(listeners);
    return new RequestListener() {
      @Override
      public void exchange(HttpExchange exchange) {
        copy.forEach(l -> l.exchange(exchange));
      }

      @Override
      public void webSocketMessage(ConnectionEvent c, boolean received, WebSocketOpcode opcode, long bytes) {
        copy.forEach(l -> l.webSocketMessage(c, received, opcode, bytes));
      }

      @Override
      public void activeRequests(ConnectionEvent c, String method, int delta) {
        copy.forEach(l -> l.activeRequests(c, method, delta));
      }
    };
  }
}
