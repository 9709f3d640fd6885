package dev.wmscope.agent.telemetry;

import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.ConnectionTelemetry;

/** Feeds connection events into the OpenTelemetry bridge. */
public final class TelemetryListener implements ConnectionListener {
  private final ConnectionTelemetry telemetry;

  public TelemetryListener(ConnectionTelemetry telemetry) {
    this.telemetry = telemetry;
  }

  @Override
  public void opened(ConnectionEvent event) {
    telemetry.opened(event);
  }

  @Override
  public void closed(ConnectionEvent event) {
    telemetry.closed(event);
  }
}
