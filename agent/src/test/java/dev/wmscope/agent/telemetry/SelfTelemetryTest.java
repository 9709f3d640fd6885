package dev.wmscope.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.probe.TrafficStats;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SelfTelemetryTest {
  @Test
  void everyStateOfEveryKernelFeatureIsASeriesWithOneForTheCurrentState() {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    Map<KernelFeature, FeatureStatus> features = new EnumMap<>(KernelFeature.class);
    for (KernelFeature f : KernelFeature.values()) {
      features.put(f, FeatureStatus.ok(f));
    }
    features.put(KernelFeature.TRACKED_ITER, FeatureStatus.lost(KernelFeature.TRACKED_ITER, "refused"));
    features.put(KernelFeature.ADOPTION, FeatureStatus.lost(KernelFeature.ADOPTION, "turned off"));
    LiveState.View view = new LiveState.View(0, List.of(), List.of(), List.of(), List.of(), Map.of(),
        TrafficStats.Snapshot.EMPTY);
    try (SdkMeterProvider provider = SdkMeterProvider.builder().registerMetricReader(reader).build()) {
      SelfTelemetry.register(provider, () -> view, () -> features);
      MetricData gauge = reader.collectAllMetrics().stream()
          .filter(m -> m.getName().equals(SelfTelemetry.AGENT_KERNEL_FEATURE)).findFirst().orElseThrow();
      assertThat(gauge.getUnit()).isEmpty();
      List<LongPointData> points = List.copyOf(gauge.getLongGaugeData().getPoints());
      assertThat(points).hasSize(KernelFeature.values().length * FeatureStatus.State.values().length);
      assertThat(value(points, "tracked_iter", "degraded")).isOne();
      assertThat(value(points, "tracked_iter", "ok")).isZero();
      assertThat(value(points, "tracked_iter", "missing")).isZero();
      assertThat(value(points, "adoption", "missing")).isOne();
      assertThat(value(points, "reset_marks", "ok")).isOne();
      assertThat(value(points, "reset_marks", "degraded")).isZero();
    }
  }

  private static long value(List<LongPointData> points, String feature, String state) {
    Attributes want = Attributes.of(SelfTelemetry.KERNEL_FEATURE, feature, SelfTelemetry.KERNEL_FEATURE_STATE, state);
    return points.stream().filter(p -> p.getAttributes().equals(want)).findFirst().orElseThrow().getValue();
  }
}
