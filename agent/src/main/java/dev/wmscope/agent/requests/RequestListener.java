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

  /** The OpenTelemetry side: spans and metrics of each exchange and message. */
  static RequestListener telemetry(dev.wmscope.otel.RequestTelemetry telemetry) {
    return new RequestListener() {
      @Override
      public void exchange(HttpExchange x) {
        telemetry.exchange(x);
      }

      @Override
      public void webSocketMessage(ConnectionEvent c, boolean received, WebSocketOpcode op, long bytes) {
        telemetry.webSocketMessage(c, received, op, bytes);
      }

      @Override
      public Object requestStarted(ConnectionEvent c, String method) {
        return telemetry.requestStarted(c, method);
      }

      @Override
      public void requestEnded(Object started) {
        telemetry.requestEnded(started);
      }
    };
  }

  /** Hands each event to every listener in turn (indexed loops: this runs twice per request). */
  static RequestListener all(java.util.List<RequestListener> listeners) {
    RequestListener[] each = listeners.toArray(RequestListener[]::new);
    return new RequestListener() {
      @Override
      public void exchange(HttpExchange exchange) {
        for (RequestListener l : each) {
          l.exchange(exchange);
        }
      }

      @Override
      public void webSocketMessage(ConnectionEvent c, boolean received, WebSocketOpcode opcode, long bytes) {
        for (RequestListener l : each) {
          l.webSocketMessage(c, received, opcode, bytes);
        }
      }

      @Override
      public Object requestStarted(ConnectionEvent c, String method) {
        Object[] handles = null; // only when a listener has something to end
        for (int i = 0; i < each.length; i++) {
          Object h = each[i].requestStarted(c, method);
          if (h != null) {
            if (handles == null) {
              handles = new Object[each.length];
            }
            handles[i] = h;
          }
        }
        return handles;
      }

      @Override
      public void requestEnded(Object started) {
        Object[] handles = (Object[]) started;
        for (int i = 0; i < handles.length; i++) {
          if (handles[i] != null) {
            each[i].requestEnded(handles[i]);
          }
        }
      }
    };
  }
}
