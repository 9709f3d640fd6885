package dev.wmscope.agent.telemetry;

import static io.opentelemetry.api.common.AttributeKey.stringKey;

import io.opentelemetry.api.common.AttributeKey;

/**
 * Names the agent itself adds to the OpenTelemetry output: self-metrics about export, and the
 * wmscope configuration properties read through the SDK's autoconfigure (so each also works as
 * an environment variable, {@code wmscope.service.name} as {@code WMSCOPE_SERVICE_NAME}). The
 * connection telemetry names are in the bridge's {@code TelemetryNames}.
 */
public final class ExportNames {
  private ExportNames() {}

  /** Instrumentation scope of the agent's self-metrics. */
  public static final String SCOPE_NAME = "dev.wmscope.agent";

  // --- self-metrics ---

  /** Export calls (one per batch) an exporter reported as failed. */
  public static final String EXPORT_FAILURES = "wmscope.export.failures";
  public static final String EXPORT_FAILURES_DESCRIPTION =
      "Export calls (batches) that failed, e.g. because the collector was unreachable.";
  public static final String EXPORT_FAILURES_UNIT = "{batch}";

  /** Spans lost because the batch that carried them failed to export. */
  public static final String EXPORT_SPANS_DROPPED = "wmscope.export.spans.dropped";
  public static final String EXPORT_SPANS_DROPPED_DESCRIPTION =
      "Spans lost because the export of their batch failed.";
  public static final String EXPORT_SPANS_DROPPED_UNIT = "{span}";

  /** {@code traces} or {@code metrics}. */
  public static final AttributeKey<String> EXPORT_SIGNAL = stringKey("wmscope.export.signal");

  /** The exporter, as named in OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: otlp, zipkin, console. */
  public static final AttributeKey<String> EXPORT_EXPORTER = stringKey("wmscope.export.exporter");

  public static final String SIGNAL_TRACES = "traces";
  public static final String SIGNAL_METRICS = "metrics";

  // --- configuration properties (flags map to these; env WMSCOPE_* works through autoconfigure) ---

  /** service.name to use instead of the discovered app; beats OTEL_SERVICE_NAME. */
  public static final String PROP_SERVICE_NAME = "wmscope.service.name";

  /** Connections at least this long are always sampled; 0 turns the rule off. */
  public static final String PROP_SLOW_THRESHOLD = "wmscope.traces.slow.threshold";
}
