package dev.wmscope.otel;

import static dev.wmscope.otel.TelemetryNames.PROCESS_PID;
import static dev.wmscope.otel.TelemetryNames.WORKERMAN_WORKER_NAME;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.List;
import java.util.Objects;

/**
 * Worker health signals: event-loop utilization and blocked state, busy-stretch histograms,
 * descriptor headroom, and worker exits by cause.
 *
 * <p>The busy-stretch histogram ({@value TelemetryNames#EVENTLOOP_BUSY_DURATION}) is counted in the
 * kernel, bucket by bucket, for every stretch (hundreds of thousands a second on a busy worker):
 * recording each through the API would cost more than the rest of the agent, so the agent exports
 * the kernel's counts as they are (a MetricProducer of the SDK), with {@link #BUSY_BOUNDS_SECONDS}
 * and {@link #worker} attributes. Gauges are observed from a {@link View}; exits are counted as
 * they are reported.
 *
 * <p>Thread-safe; the view is called on the SDK's collection thread and must return immutable
 * snapshots.
 */
public final class WorkerHealthTelemetry {

  /** Upper bounds of the busy-duration buckets, seconds (the kernel's WM_LOOP_BOUNDS). */
  public static final List<Double> BUSY_BOUNDS_SECONDS =
      List.of(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0);

  /**
   * One watched worker now.
   *
   * @param utilization      share of the last tick not waiting for events, or NaN when unknown
   * @param busyBucketCounts finished stretches per bucket (bounds + 1 entries), since startEpochNanos
   * @param busySumSeconds   their total length
   * @param openFds          descriptors open (-1: unknown)
   * @param fdLimit          soft RLIMIT_NOFILE (-1: unknown or unlimited)
   */
  public record WorkerLoop(long pid, WorkerIdentity worker, String kind, double utilization, boolean blocked,
      long startEpochNanos, List<Long> busyBucketCounts, double busySumSeconds, long openFds, long fdLimit) {}

  /** What the gauges and the histogram read; each call returns the current immutable state. */
  public interface View {
    List<WorkerLoop> workers();
  }

  private final LongCounter exits;
  private final Logger logger;

  public WorkerHealthTelemetry(OpenTelemetry openTelemetry, View view) {
    Objects.requireNonNull(openTelemetry, "openTelemetry");
    Objects.requireNonNull(view, "view");
    // log records go nowhere unless a logs exporter is configured (OTEL_LOGS_EXPORTER=otlp)
    this.logger = openTelemetry.getLogsBridge().loggerBuilder(TelemetryNames.SCOPE_NAME)
        .setSchemaUrl(TelemetryNames.SCHEMA_URL).build();
    Meter meter = Scope.meter(openTelemetry);
    meter.gaugeBuilder(TelemetryNames.EVENTLOOP_UTILIZATION)
        .setDescription(TelemetryNames.EVENTLOOP_UTILIZATION_DESCRIPTION).setUnit(TelemetryNames.UNIT_ONE)
        .buildWithCallback(m -> view.workers().forEach(w -> {
          if (!Double.isNaN(w.utilization())) {
            m.record(w.utilization(), withKind(w));
          }
        }));
    meter.gaugeBuilder(TelemetryNames.EVENTLOOP_BLOCKED).ofLongs()
        .setDescription(TelemetryNames.EVENTLOOP_BLOCKED_DESCRIPTION).setUnit(TelemetryNames.UNIT_ONE)
        .buildWithCallback(m -> view.workers().forEach(w -> m.record(w.blocked() ? 1 : 0, worker(w))));
    meter.gaugeBuilder(TelemetryNames.PROCESS_FD_COUNT).ofLongs()
        .setDescription(TelemetryNames.PROCESS_FD_COUNT_DESCRIPTION).setUnit("{file_descriptor}")
        .buildWithCallback(m -> view.workers().stream().filter(w -> w.openFds() >= 0)
            .forEach(w -> m.record(w.openFds(), worker(w))));
    meter.gaugeBuilder(TelemetryNames.PROCESS_FD_LIMIT).ofLongs()
        .setDescription(TelemetryNames.PROCESS_FD_LIMIT_DESCRIPTION).setUnit("{file_descriptor}")
        .buildWithCallback(m -> view.workers().stream().filter(w -> w.fdLimit() >= 0)
            .forEach(w -> m.record(w.fdLimit(), worker(w))));
    exits = meter.counterBuilder(TelemetryNames.WORKER_EXITS).setDescription(TelemetryNames.WORKER_EXITS_DESCRIPTION)
        .setUnit("{process}").build();
  }

  /**
   * One lifecycle event as an OpenTelemetry log record: {@code name} is the event name (one of
   * {@link TelemetryNames#EVENT_WORKER_EXIT} ...), {@code body} the agent's log line.
   *
   * @param pid    the worker (or master, for a reload); 0 when none
   * @param worker its identity, null when unknown
   */
  public void event(String name, boolean warning, String body, long pid, WorkerIdentity worker, Attributes extra) {
    AttributesBuilder b = Attributes.builder().putAll(extra);
    if (pid > 0) {
      b.put(PROCESS_PID, pid);
    }
    if (worker != null) {
      b.put(WORKERMAN_WORKER_NAME, worker.workerName());
      b.put(TelemetryNames.WORKERMAN_START_FILE, worker.startFile());
      b.put(TelemetryNames.WORKERMAN_MASTER_PID, worker.masterPid());
    }
    logger.logRecordBuilder().setEventName(name).setTimestamp(java.time.Instant.now())
        .setSeverity(warning ? Severity.WARN : Severity.INFO).setSeverityText(warning ? "WARN" : "INFO")
        .setBody(body).setAllAttributes(b.build()).emit();
  }

  /** A worker exited; {@code cause} is one of the values in the counter's description. */
  public void exited(WorkerIdentity worker, String cause) {
    AttributesBuilder b = Attributes.builder().put(TelemetryNames.WORKER_EXIT_CAUSE, cause);
    if (worker != null) {
      b.put(WORKERMAN_WORKER_NAME, worker.workerName());
    }
    exits.add(1, b.build());
  }

  /** A worker's metric attributes (also the busy-duration histogram's, made by the agent). */
  public static Attributes worker(WorkerLoop w) {
    AttributesBuilder b = Attributes.builder().put(PROCESS_PID, w.pid());
    if (w.worker() != null) {
      b.put(WORKERMAN_WORKER_NAME, w.worker().workerName());
    }
    return b.build();
  }

  private static Attributes withKind(WorkerLoop w) {
    return worker(w).toBuilder().put(TelemetryNames.EVENTLOOP_KIND, w.kind()).build();
  }
}
