package dev.wmscope.agent.e2e;

import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/** Reads the newest export of a metric from what an {@link OtlpHttpReceiver} received. */
final class MetricQuery {
  private MetricQuery() {}

  /** Data points of the newest export of {@code name} (sum or gauge), or empty. */
  static List<NumberDataPoint> latest(OtlpHttpReceiver receiver, String name) {
    List<Metric> exports = receiver.metrics().stream()
        .flatMap(rm -> rm.getScopeMetricsList().stream())
        .flatMap(sm -> sm.getMetricsList().stream())
        .filter(m -> m.getName().equals(name))
        .toList();
    if (exports.isEmpty()) {
      return List.of();
    }
    Metric m = exports.getLast();
    return m.hasSum() ? m.getSum().getDataPointsList() : m.getGauge().getDataPointsList();
  }

  static Map<String, String> attributes(NumberDataPoint p) {
    return p.getAttributesList().stream().collect(Collectors.toMap(KeyValue::getKey, kv -> value(kv)));
  }

  private static String value(KeyValue kv) {
    var v = kv.getValue();
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> Long.toString(v.getIntValue());
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
      default -> v.toString();
    };
  }

  /** Sum of the newest export's points whose attributes contain every given pair. */
  static long sum(OtlpHttpReceiver receiver, String name, Map<String, String> where) {
    return latest(receiver, name).stream()
        .filter(p -> attributes(p).entrySet().containsAll(where.entrySet()))
        .mapToLong(p -> p.hasAsInt() ? p.getAsInt() : Math.round(p.getAsDouble()))
        .sum();
  }

  /** Points of the newest export whose attributes contain every given pair. */
  static List<NumberDataPoint> points(OtlpHttpReceiver receiver, String name, Map<String, String> where) {
    return latest(receiver, name).stream()
        .filter(p -> attributes(p).entrySet().containsAll(where.entrySet()))
        .filter(Objects::nonNull)
        .toList();
  }
}
