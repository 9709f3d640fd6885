package dev.wmscope.otel;

import static dev.wmscope.otel.TelemetryNames.LINK_CLIENT_ROLE;
import static dev.wmscope.otel.TelemetryNames.LINK_SERVER_ROLE;
import static dev.wmscope.otel.TelemetryNames.PROCESS_PID;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_NAME;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.List;
import java.util.Objects;

/**
 * GatewayWorker topology metrics: clients per Gateway process, and per role pair of internal
 * links their RTT, backlog, missing links and reconnects. Role pairs, never pids, on the link
 * metrics (a reload replaces every pid). Gauges read a {@link View}; reconnects are counted.
 */
public final class GatewayTelemetry {

  /** A Gateway process and its clients. */
  public record Gateway(long pid, String workerName, long clients) {}

  /** The internal links of one role pair now. */
  public record RolePair(String clientRole, String serverRole, long links, double maxRttSeconds, long backlogBytes,
      long missing) {}

  /** What the gauges read; immutable snapshots. */
  public interface View {
    List<Gateway> gateways();

    List<RolePair> pairs();
  }

  private final LongCounter reconnects;

  public GatewayTelemetry(OpenTelemetry openTelemetry, View view) {
    Objects.requireNonNull(view, "view");
    Meter meter = Scope.meter(openTelemetry);
    meter.gaugeBuilder(TelemetryNames.GATEWAY_CLIENTS).ofLongs().setUnit("{connection}")
        .setDescription(TelemetryNames.GATEWAY_CLIENTS_DESCRIPTION)
        .buildWithCallback(m -> view.gateways().forEach(g -> m.record(g.clients(),
            Attributes.of(PROCESS_PID, g.pid(), WORKERMAN_WORKER_NAME, g.workerName()))));
    meter.gaugeBuilder(TelemetryNames.LINK_RTT).setUnit("s").setDescription(TelemetryNames.LINK_RTT_DESCRIPTION)
        .buildWithCallback(m -> view.pairs().stream().filter(p -> p.links() > 0)
            .forEach(p -> m.record(p.maxRttSeconds(), pair(p))));
    meter.gaugeBuilder(TelemetryNames.LINK_BACKLOG).ofLongs().setUnit("By")
        .setDescription(TelemetryNames.LINK_BACKLOG_DESCRIPTION)
        .buildWithCallback(m -> view.pairs().stream().filter(p -> p.links() > 0)
            .forEach(p -> m.record(p.backlogBytes(), pair(p))));
    meter.gaugeBuilder(TelemetryNames.LINK_MISSING).ofLongs().setUnit("{link}")
        .setDescription(TelemetryNames.LINK_MISSING_DESCRIPTION)
        .buildWithCallback(m -> view.pairs().forEach(p -> m.record(p.missing(), pair(p))));
    reconnects = meter.counterBuilder(TelemetryNames.LINK_RECONNECTS).setUnit("{connection}")
        .setDescription(TelemetryNames.LINK_RECONNECTS_DESCRIPTION).build();
  }

  public void reconnected(String clientRole, String serverRole) {
    reconnects.add(1, Attributes.of(LINK_CLIENT_ROLE, clientRole, LINK_SERVER_ROLE, serverRole));
  }

  private static Attributes pair(RolePair p) {
    return Attributes.of(LINK_CLIENT_ROLE, p.clientRole(), LINK_SERVER_ROLE, p.serverRole());
  }
}
