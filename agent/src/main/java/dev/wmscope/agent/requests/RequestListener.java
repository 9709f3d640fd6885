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
   * A request's head was read: it is active until {@link #requestEnded} with what this returned
   * (answered, or not to be reported). Null: nothing to end.
   */
  default Object requestStarted(ConnectionEvent connection, String method) {
    return null;
  }

  /** The request whose start returned {@code started} is no longer active. */
  default void requestEnded(Object started) {}

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
      public Object requestStarted(ConnectionEvent c, String method) {
        Object[] handles = new Object[copy.size()];
        for (int i = 0; i < handles.length; i++) {
          handles[i] = copy.get(i).requestStarted(c, method);
        }
        return handles;
      }

      @Override
      public void requestEnded(Object started) {
        Object[] handles = (Object[]) started;
        for (int i = 0; i < handles.length; i++) {
          if (handles[i] != null) {
            copy.get(i).requestEnded(handles[i]);
          }
        }
      }
    };
  }
}
