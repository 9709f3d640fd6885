package dev.wmscope.agent.e2e;

import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;
import java.util.Objects;

/**
 * An OTLP receiver on loopback (HTTP/protobuf or gRPC) that keeps every export request it
 * decoded with the official opentelemetry-proto classes, in arrival order.
 */
interface OtlpReceiver extends AutoCloseable {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT must be set to. */
  String endpoint();

  List<ResourceSpans> spans();

  List<ResourceMetrics> metrics();

  /** Every span received so far. */
  default List<Span> allSpans() {
    return spans().stream().flatMap(rs -> rs.getScopeSpansList().stream())
        .flatMap(ss -> ss.getSpansList().stream()).toList();
  }

  /** The newest export of a metric, or null. */
  default Metric newest(String name) {
    return metrics().stream().flatMap(rm -> rm.getScopeMetricsList().stream())
        .flatMap(sm -> sm.getMetricsList().stream())
        .filter(m -> Objects.equals(m.getName(), name))
        .reduce((a, b) -> b).orElse(null);
  }

  @Override
  void close() throws Exception;
}
