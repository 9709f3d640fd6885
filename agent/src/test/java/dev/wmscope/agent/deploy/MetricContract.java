package dev.wmscope.agent.deploy;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The public metric contract, src/test/resources/deploy/metrics-contract.txt: metric names with
 * instrument and unit, attribute and resource keys. Derives the Prometheus names and labels.
 */
record MetricContract(Map<String, Metric> metrics, Set<String> attributes, Set<String> resources) {

  enum Instrument { COUNTER, UPDOWNCOUNTER, GAUGE, HISTOGRAM }

  record Metric(String name, Instrument instrument, String unit) {

    /** Every series name this metric can have in Prometheus. */
    List<String> prometheusNames() {
      String base = name.replace('.', '_') + unitSuffix();
      return switch (instrument) {
        case COUNTER -> List.of(base + "_total");
        case HISTOGRAM -> List.of(base + "_bucket", base + "_sum", base + "_count");
        case UPDOWNCOUNTER -> List.of(base);
        // the Collector (otlptranslator) adds _ratio to unit-"1" gauges, the Java exporter does not
        case GAUGE -> unit.equals("1") ? List.of(base, base + "_ratio") : List.of(base);
      };
    }

    private String unitSuffix() {
      if (unit.startsWith("{") || unit.equals("1")) {
        return "";
      }
      return switch (unit) {
        case "s" -> "_seconds";
        case "ms" -> "_milliseconds";
        case "By" -> "_bytes";
        default -> throw new IllegalStateException(
            name + ": unit " + unit + " has no Prometheus suffix mapping in MetricContract yet");
      };
    }
  }

  static MetricContract load() {
    Map<String, Metric> metrics = new LinkedHashMap<>();
    Set<String> attributes = new LinkedHashSet<>();
    Set<String> resources = new LinkedHashSet<>();
    String text = Repo.read("agent/src/test/resources/deploy/metrics-contract.txt");
    for (String raw : text.lines().toList()) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\\s+");
      switch (f[0]) {
        case "metric" -> {
          if (f.length != 4) {
            throw new IllegalStateException("metrics-contract.txt: want `metric NAME INSTRUMENT UNIT`: " + line);
          }
          Metric m = new Metric(f[1], Instrument.valueOf(f[2].toUpperCase(java.util.Locale.ROOT)), f[3]);
          if (metrics.put(m.name(), m) != null) {
            throw new IllegalStateException("metrics-contract.txt: " + m.name() + " listed twice");
          }
        }
        case "attribute" -> attributes.add(f[1]);
        case "resource" -> resources.add(f[1]);
        default -> throw new IllegalStateException("metrics-contract.txt: unknown line: " + line);
      }
    }
    return new MetricContract(metrics, attributes, resources);
  }

  /** Prometheus series names of every metric, each mapped to its metric. */
  Map<String, Metric> prometheusNames() {
    Map<String, Metric> out = new LinkedHashMap<>();
    metrics.values().forEach(m -> m.prometheusNames().forEach(n -> out.put(n, m)));
    return out;
  }

  /** Labels a query may use: attributes and resource attributes, plus what Prometheus adds. */
  Set<String> labels() {
    Set<String> out = new LinkedHashSet<>(List.of("le", "job", "instance", "__name__"));
    attributes.forEach(a -> out.add(a.replace('.', '_')));
    resources.forEach(a -> out.add(a.replace('.', '_')));
    return out;
  }
}
