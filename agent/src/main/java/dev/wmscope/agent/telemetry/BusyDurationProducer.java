package dev.wmscope.agent.telemetry;

import dev.wmscope.otel.TelemetryNames;
import dev.wmscope.otel.WorkerHealthTelemetry;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@value TelemetryNames#EVENTLOOP_BUSY_DURATION} as the kernel counted it: one cumulative
 * histogram point per watched worker, since it was first watched, with the kernel's bucket
 * bounds (see {@link WorkerHealthTelemetry}). Read by every metric reader of the SDK.
 */
public final class BusyDurationProducer implements MetricProducer {
  private final Supplier<List<WorkerHealthTelemetry.WorkerLoop>> workers;
  private final InstrumentationScopeInfo scope = InstrumentationScopeInfo.builder(TelemetryNames.SCOPE_NAME)
      .setSchemaUrl(TelemetryNames.SCHEMA_URL).build();

  public BusyDurationProducer(Supplier<List<WorkerHealthTelemetry.WorkerLoop>> workers) {
    this.workers = workers;
  }

  @Override
  public Collection<MetricData> produce(Resource resource) {
    long now = System.currentTimeMillis() * 1_000_000L;
    List<HistogramPointData> points = new ArrayList<>();
    for (WorkerHealthTelemetry.WorkerLoop w : workers.get()) {
      if (w.busyBucketCounts().size() != WorkerHealthTelemetry.BUSY_BOUNDS_SECONDS.size() + 1) {
        continue; // no kernel reading (loop_health off)
      }
      points.add(HistogramPointData.create(w.startEpochNanos(), Math.max(now, w.startEpochNanos()),
          WorkerHealthTelemetry.worker(w), w.busySumSeconds(), false, 0, false, 0,
          WorkerHealthTelemetry.BUSY_BOUNDS_SECONDS, w.busyBucketCounts()));
    }
    if (points.isEmpty()) {
      return List.of();
    }
    return List.of(new Histogram(resource, scope, HistogramData.create(AggregationTemporality.CUMULATIVE, points)));
  }

  /** The histogram as MetricData (the SDK's own implementation is internal). */
  private record Histogram(Resource resource, InstrumentationScopeInfo scope, HistogramData data)
      implements MetricData {
    @Override
    public Resource getResource() {
      return resource;
    }

    @Override
    public InstrumentationScopeInfo getInstrumentationScopeInfo() {
      return scope;
    }

    @Override
    public String getName() {
      return TelemetryNames.EVENTLOOP_BUSY_DURATION;
    }

    @Override
    public String getDescription() {
      return TelemetryNames.EVENTLOOP_BUSY_DURATION_DESCRIPTION;
    }

    @Override
    public String getUnit() {
      return "s";
    }

    @Override
    public MetricDataType getType() {
      return MetricDataType.HISTOGRAM;
    }

    @Override
    public Data<?> getData() {
      return data;
    }
  }
}
