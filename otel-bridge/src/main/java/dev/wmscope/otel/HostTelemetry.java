package dev.wmscope.otel;

import static dev.wmscope.otel.TelemetryNames.DROP_REASON;
import static dev.wmscope.otel.TelemetryNames.PROCESS_PID;
import static dev.wmscope.otel.TelemetryNames.SERVER_PORT;
import static dev.wmscope.otel.TelemetryNames.SHARE_KIND;
import static dev.wmscope.otel.TelemetryNames.UNIT_CONNECTIONS;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_NAME;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import java.util.List;
import java.util.Objects;

/**
 * Host-level signals that are not about one connection: accept-queue pressure per listening
 * socket, stalled workers, each worker's share of a listener's connections, and kernel event
 * losses. Gauges are observed from a {@link View} the agent keeps current; counters are fed.
 *
 * <p>Thread-safe. The view is called on the SDK's metric collection thread, so it must return
 * immutable snapshots. Attributes never include peer addresses or client ports.
 *
 * <p>Ownership: the {@link OpenTelemetry} instance belongs to the caller; the gauge callbacks
 * live as long as its meter provider (shutting the SDK down ends them). Nothing to close here.
 */
public final class HostTelemetry {

  /** A listening socket's accept queue. pid is the process holding it (the master when shared). */
  public record ListenerGauge(int port, long pid, WorkerIdentity worker, long queueLength, long queueLimit) {}

  /** A worker's unread bytes and whether it counts as stalled. */
  public record WorkerGauge(long pid, WorkerIdentity worker, boolean stalled, long queuedBytes) {}

  /** A worker's share (0..1) of a listener's accepted (since start) and active connections. */
  public record ShareGauge(int port, long pid, WorkerIdentity worker, double acceptedShare, double activeShare) {}

  /** What the gauges read; each call returns the current immutable state. */
  public interface View {
    List<ListenerGauge> listeners();

    List<WorkerGauge> workers();

    List<ShareGauge> shares();
  }

  private final LongCounter overflows;
  private final LongCounter dropped;
  private final LongCounter skippedRuns;

  public HostTelemetry(OpenTelemetry openTelemetry, View view) {
    Objects.requireNonNull(openTelemetry, "openTelemetry");
    Objects.requireNonNull(view, "view");
    Meter meter = Scope.meter(openTelemetry);
    meter.gaugeBuilder(TelemetryNames.LISTEN_QUEUE_LENGTH).ofLongs()
        .setDescription(TelemetryNames.LISTEN_QUEUE_LENGTH_DESCRIPTION).setUnit(UNIT_CONNECTIONS)
        .buildWithCallback(m -> view.listeners().forEach(l -> m.record(l.queueLength(), listener(l))));
    meter.gaugeBuilder(TelemetryNames.LISTEN_QUEUE_LIMIT).ofLongs()
        .setDescription(TelemetryNames.LISTEN_QUEUE_LIMIT_DESCRIPTION).setUnit(UNIT_CONNECTIONS)
        .buildWithCallback(m -> view.listeners().forEach(l -> m.record(l.queueLimit(), listener(l))));
    meter.gaugeBuilder(TelemetryNames.WORKER_STALLED).ofLongs()
        .setDescription(TelemetryNames.WORKER_STALLED_DESCRIPTION).setUnit(TelemetryNames.UNIT_ONE)
        .buildWithCallback(m -> view.workers().forEach(w -> m.record(w.stalled() ? 1 : 0, worker(w.pid(), w.worker()))));
    meter.gaugeBuilder(TelemetryNames.WORKER_QUEUED).ofLongs()
        .setDescription(TelemetryNames.WORKER_QUEUED_DESCRIPTION).setUnit(TelemetryNames.NETWORK_IO_UNIT)
        .buildWithCallback(m -> view.workers().forEach(w -> m.record(w.queuedBytes(), worker(w.pid(), w.worker()))));
    meter.gaugeBuilder(TelemetryNames.WORKER_SHARE)
        .setDescription(TelemetryNames.WORKER_SHARE_DESCRIPTION).setUnit(TelemetryNames.UNIT_ONE)
        .buildWithCallback(m -> view.shares().forEach(s -> recordShare(m, s)));
    overflows = meter.counterBuilder(TelemetryNames.LISTEN_OVERFLOWS)
        .setDescription(TelemetryNames.LISTEN_OVERFLOWS_DESCRIPTION).setUnit(UNIT_CONNECTIONS).build();
    dropped = meter.counterBuilder(TelemetryNames.EVENTS_DROPPED)
        .setDescription(TelemetryNames.EVENTS_DROPPED_DESCRIPTION).setUnit(TelemetryNames.UNIT_EVENTS).build();
    skippedRuns = meter.counterBuilder(TelemetryNames.PROBE_SKIPPED_RUNS)
        .setDescription(TelemetryNames.PROBE_SKIPPED_RUNS_DESCRIPTION).setUnit(TelemetryNames.UNIT_RUNS).build();
  }

  /** Program runs the kernel skipped since the last report (0 creates the series). */
  public void skippedRuns(long count) {
    if (count >= 0) {
      skippedRuns.add(count);
    }
  }

  /** Connection attempts a listener on this port dropped since the last report. */
  public void listenOverflows(int port, long count) {
    if (count > 0) {
      overflows.add(count, Attributes.of(SERVER_PORT, (long) port));
    }
  }

  /**
   * Kernel events lost since the last report, for one reason. A count of 0 still creates the
   * series: every known reason is exported from the first report on, at 0 until a loss.
   */
  public void dropped(String reason, long count) {
    if (count >= 0) {
      dropped.add(count, Attributes.of(DROP_REASON, reason));
    }
  }

  private static void recordShare(ObservableDoubleMeasurement m, ShareGauge s) {
    Attributes base = worker(s.pid(), s.worker()).toBuilder().put(SERVER_PORT, (long) s.port()).build();
    m.record(s.acceptedShare(), base.toBuilder().put(SHARE_KIND, "accepted").build());
    m.record(s.activeShare(), base.toBuilder().put(SHARE_KIND, "active").build());
  }

  private static Attributes listener(ListenerGauge l) {
    return worker(l.pid(), l.worker()).toBuilder().put(SERVER_PORT, (long) l.port()).build();
  }

  private static Attributes worker(long pid, WorkerIdentity w) {
    AttributesBuilder b = Attributes.builder();
    if (pid > 0) {
      b.put(PROCESS_PID, pid);
    }
    if (w != null) {
      b.put(WORKERMAN_WORKER_NAME, w.workerName());
    }
    return b.build();
  }
}
