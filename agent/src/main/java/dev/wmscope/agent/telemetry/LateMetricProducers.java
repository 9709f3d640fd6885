package dev.wmscope.agent.telemetry;

import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The one MetricProducer registered on the meter provider when the SDK is built: producers made
 * later (worker health, which needs the probe) are added here and read by every metric reader.
 */
public final class LateMetricProducers implements MetricProducer {
  private final List<MetricProducer> producers = new CopyOnWriteArrayList<>();

  public void add(MetricProducer p) {
    producers.add(p);
  }

  @Override
  public Collection<MetricData> produce(Resource resource) {
    List<MetricData> out = new ArrayList<>();
    producers.forEach(p -> out.addAll(p.produce(resource)));
    return out;
  }
}
