package dev.wmscope.agent.telemetry;

import static dev.wmscope.agent.telemetry.ExportNames.EXPORT_EXPORTER;
import static dev.wmscope.agent.telemetry.ExportNames.EXPORT_SIGNAL;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.exporter.internal.FailedExportException;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Watches every exporter the SDK builds and turns export failures into one clear warning per
 * outage plus self-metrics, instead of one error line per batch.
 *
 * <p>Each span and metric exporter is wrapped ({@link #wrap(SpanExporter, String, String)}):
 * the first failed export after a success logs one WARNING naming the exporter, endpoint and
 * cause; further failures are only counted; the first success after failures logs one INFO
 * with how many batches and spans were lost. The SDK exporters' own per-batch failure lines
 * ("Failed to export ...", "Exporter failed") are filtered out of java.util.logging unless the
 * agent runs with debug logging. Nothing is retried here: the SDK's exporters keep trying with
 * every new batch (and retry transient errors themselves), so export resumes by itself when the
 * collector is back.
 *
 * <p>Counted ({@link #registerMetrics}): {@code wmscope.export.failures} per signal and
 * exporter, and {@code wmscope.export.spans.dropped} for spans in failed batches. Metrics are
 * cumulative, so a failed metric export loses resolution, not counts: the next successful
 * export carries the totals.
 *
 * <p>Thread-safe; one instance per SDK. It owns no resources: closing the wrapped exporters
 * closes the originals.
 */
public final class ExportHealth {
  private static final System.Logger LOG = System.getLogger(ExportHealth.class.getName());

  /** SDK loggers that report every failed batch; kept strongly so the filter stays attached. */
  private static final List<Logger> EXPORT_LOGGERS = List.of(
      Logger.getLogger("io.opentelemetry.exporter.otlp.internal.HttpExporter"),
      Logger.getLogger("io.opentelemetry.exporter.otlp.internal.GrpcExporter"),
      Logger.getLogger("io.opentelemetry.exporter.zipkin.ZipkinSpanExporter"),
      Logger.getLogger("io.opentelemetry.sdk.metrics.export.PeriodicMetricReader"));

  private final Map<Key, State> states = new ConcurrentHashMap<>();

  /** Installs the filter on the SDK's exporter loggers (idempotent, process-wide). */
  public static void quietPerBatchFailureLogs() {
    Filter filter = ExportHealth::keepRecord;
    for (Logger l : EXPORT_LOGGERS) {
      l.setFilter(filter);
    }
  }

  /** False for the SDK's per-batch failure lines, which this class replaces; all kept when debugging. */
  static boolean keepRecord(LogRecord r) {
    if (r.getLevel().intValue() < Level.WARNING.intValue() || debugLogging()) {
      return true;
    }
    String m = r.getMessage();
    return m == null || !(m.startsWith("Failed to export") || m.startsWith("Exporter failed")
        || m.startsWith("Exporter timed out") || m.startsWith("Too many log messages detected"));
  }

  private static boolean debugLogging() {
    Level root = Logger.getLogger("").getLevel();
    return root != null && root.intValue() <= Level.FINE.intValue();
  }

  /** Wraps a span exporter built by autoconfigure. */
  public SpanExporter wrap(SpanExporter exporter, String name, String endpoint) {
    State state = state(ExportNames.SIGNAL_TRACES, name, endpoint);
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        long batch = state.started.incrementAndGet();
        CompletableResultCode result = exporter.export(spans);
        int n = spans.size();
        result.whenComplete(() -> state.record(result, n, batch));
        return result;
      }

      @Override
      public CompletableResultCode flush() {
        return exporter.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        state.shutdown.set(true);
        return exporter.shutdown();
      }

      @Override
      public String toString() {
        return exporter.toString();
      }
    };
  }

  /** Wraps a metric exporter built by autoconfigure; temporality and aggregation are the original's. */
  public MetricExporter wrap(MetricExporter exporter, String name, String endpoint) {
    State state = state(ExportNames.SIGNAL_METRICS, name, endpoint);
    return new MetricExporter() {
      @Override
      public CompletableResultCode export(Collection<MetricData> metrics) {
        long batch = state.started.incrementAndGet();
        CompletableResultCode result = exporter.export(metrics);
        result.whenComplete(() -> state.record(result, 0, batch));
        return result;
      }

      @Override
      public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
        return exporter.getAggregationTemporality(instrumentType);
      }

      @Override
      public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
        return exporter.getDefaultAggregation(instrumentType);
      }

      @Override
      public MemoryMode getMemoryMode() {
        return exporter.getMemoryMode();
      }

      @Override
      public CompletableResultCode flush() {
        return exporter.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        state.shutdown.set(true);
        return exporter.shutdown();
      }

      @Override
      public String toString() {
        return exporter.toString();
      }
    };
  }

  /** Registers the self-metrics on the SDK's meter provider (once it exists). */
  public void registerMetrics(MeterProvider meterProvider) {
    Meter meter = meterProvider.meterBuilder(ExportNames.SCOPE_NAME).build();
    meter.counterBuilder(ExportNames.EXPORT_FAILURES)
        .setDescription(ExportNames.EXPORT_FAILURES_DESCRIPTION)
        .setUnit(ExportNames.EXPORT_FAILURES_UNIT)
        .buildWithCallback(m -> states.forEach((k, s) -> m.record(s.failures.sum(), k.attributes())));
    meter.counterBuilder(ExportNames.EXPORT_SPANS_DROPPED)
        .setDescription(ExportNames.EXPORT_SPANS_DROPPED_DESCRIPTION)
        .setUnit(ExportNames.EXPORT_SPANS_DROPPED_UNIT)
        .buildWithCallback(m -> states.forEach((k, s) -> {
          if (k.signal().equals(ExportNames.SIGNAL_TRACES)) {
            m.record(s.dropped.sum(), k.attributes());
          }
        }));
  }

  /** Failed batches so far for a signal and exporter (tests, status views). */
  public long failures(String signal, String exporter) {
    State s = states.get(new Key(signal, exporter));
    return s == null ? 0 : s.failures.sum();
  }

  /** Failed batches so far by {@code signal/exporter}, e.g. {@code traces/otlp} (status views). */
  public Map<String, Long> failuresByExporter() {
    Map<String, Long> out = new java.util.TreeMap<>();
    states.forEach((k, s) -> out.put(k.signal() + "/" + k.exporter(), s.failures.sum()));
    return out;
  }

  /** Spans lost in failed batches so far, all exporters. */
  public long spansDropped() {
    return states.values().stream().mapToLong(s -> s.dropped.sum()).sum();
  }

  private State state(String signal, String name, String endpoint) {
    return states.computeIfAbsent(new Key(signal, name), k -> new State(k, endpoint));
  }

  private record Key(String signal, String exporter) {
    Attributes attributes() {
      return Attributes.of(EXPORT_SIGNAL, signal, EXPORT_EXPORTER, exporter);
    }
  }

  private static final class State {
    final Key key;
    final String endpoint;
    final AtomicBoolean failing = new AtomicBoolean();
    final AtomicBoolean shutdown = new AtomicBoolean();
    final LongAdder failures = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder failuresThisOutage = new LongAdder();
    final LongAdder droppedThisOutage = new LongAdder();
    /** Batches handed to the exporter so far: a batch's number orders it by start. */
    final AtomicLong started = new AtomicLong();
    /** How many batches had started when the latest success completed: those were all in flight before the recovery. */
    final AtomicLong lastSuccess = new AtomicLong();

    State(Key key, String endpoint) {
      this.key = key;
      this.endpoint = endpoint;
    }

    /**
     * One finished batch. Results arrive out of order: batches of the outage may still be in
     * the exporter's retries when another one (older or newer) has succeeded. A failure of a
     * batch that started before a success completed is counted but is not a new outage (no
     * warning, and no second "recovered" line after it).
     */
    synchronized void record(CompletableResultCode result, int items, long batch) {
      if (result.isSuccess()) {
        lastSuccess.accumulateAndGet(started.get(), Math::max);
        if (failing.compareAndSet(true, false)) {
          long batches = failuresThisOutage.sumThenReset();
          long lost = droppedThisOutage.sumThenReset();
          LOG.log(System.Logger.Level.INFO, "export {0} to {1} ({2}): recovered after {3} failed {4}{5}",
              key.signal(), endpoint, key.exporter(), batches, batches == 1 ? "batch" : "batches",
              key.signal().equals(ExportNames.SIGNAL_TRACES) ? " (" + lost + " spans dropped)" : "");
        }
        return;
      }
      failures.increment();
      dropped.add(items);
      if (batch <= lastSuccess.get()) {
        return; // in flight when a success completed: the end of the outage already reported
      }
      failuresThisOutage.increment();
      droppedThisOutage.add(items);
      if (!shutdown.get() && failing.compareAndSet(false, true)) {
        LOG.log(System.Logger.Level.WARNING,
            "export {0} to {1} ({2}): {3}. Export resumes by itself when the receiver is back;"
                + " until then failures are counted in {4}{5} instead of being logged",
            key.signal(), endpoint, key.exporter(), describe(result.getFailureThrowable()),
            ExportNames.EXPORT_FAILURES,
            key.signal().equals(ExportNames.SIGNAL_TRACES) ? " and " + ExportNames.EXPORT_SPANS_DROPPED : "");
      }
    }
  }

  /** A short cause: the HTTP or gRPC status, or the innermost exception's message. */
  static String describe(Throwable t) {
    if (t == null) {
      return "export failed";
    }
    try {
      if (t instanceof FailedExportException.HttpExportException h && h.getResponse() != null) {
        return "the receiver answered HTTP " + h.getResponse().getStatusCode();
      }
      if (t instanceof FailedExportException.GrpcExportException g && g.getResponse() != null) {
        return "the receiver answered gRPC status " + g.getResponse().getStatusCode()
            + (g.getResponse().getStatusDescription() == null ? "" : " " + g.getResponse().getStatusDescription());
      }
    } catch (LinkageError e) {
      // internal SDK classes changed shape: fall through to the exception chain
    }
    Throwable root = t;
    String message = null;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      root = c;
      if (c.getMessage() != null && !c.getMessage().isBlank() && !(c instanceof FailedExportException)) {
        message = c.getMessage();
      }
    }
    return "failed (" + root.getClass().getSimpleName() + (message == null ? "" : ": " + message) + ")";
  }
}
