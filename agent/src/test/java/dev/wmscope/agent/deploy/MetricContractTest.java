package dev.wmscope.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.TelemetryNames;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The metric contract (metrics-contract.txt) against the code: every metric name the bridge and
 * the agent define is in the contract, with the same unit where the code names one per metric.
 */
class MetricContractTest {
  private static final Pattern METRIC_NAME = Pattern.compile("wmscope(\\.[a-z0-9_]+)+");

  private final MetricContract contract = MetricContract.load();

  /** Metric name constants of a names class: String constants whose value is a wmscope.* name. */
  static Map<String, String> metricConstants(Class<?> names) throws IllegalAccessException {
    Map<String, String> out = new LinkedHashMap<>();
    for (Field f : names.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class
          && !f.getName().endsWith("_DESCRIPTION") && !f.getName().endsWith("_UNIT")
          && !f.getName().startsWith("PROP_")) {
        String value = (String) f.get(null);
        if (METRIC_NAME.matcher(value).matches()) {
          out.put(f.getName(), value);
        }
      }
    }
    return out;
  }

  private static Class<?> exportNames() {
    try {
      return Class.forName("dev.wmscope.agent.telemetry.ExportNames");
    } catch (ClassNotFoundException e) {
      return null;
    }
  }

  @Test
  void everyMetricTheCodeDefinesIsInTheContract() throws Exception {
    Map<String, String> defined = new LinkedHashMap<>(metricConstants(TelemetryNames.class));
    Class<?> export = exportNames();
    if (export != null) {
      defined.putAll(metricConstants(export));
    }
    assertThat(defined).as("metric names found in TelemetryNames").isNotEmpty();
    assertThat(contract.metrics().keySet())
        .as("metrics-contract.txt must list every metric the code defines; add a `metric` line for each missing one")
        .containsAll(defined.values());

    Set<String> pending = new TreeSet<>(contract.metrics().keySet());
    pending.removeAll(defined.values());
    if (!pending.isEmpty()) {
      System.out.println("metrics-contract.txt: listed but not defined in the code yet (pending): " + pending);
    }
  }

  @Test
  void unitsAgreeWhereTheCodeNamesAUnitPerMetric() throws Exception {
    for (Class<?> names : new Class<?>[] {TelemetryNames.class, exportNames()}) {
      if (names == null) {
        continue;
      }
      for (var e : metricConstants(names).entrySet()) {
        Field unit;
        try {
          unit = names.getField(e.getKey() + "_UNIT");
        } catch (NoSuchFieldException none) {
          continue;
        }
        assertThat(contract.metrics().get(e.getValue()).unit())
            .as("unit of %s (%s.%s_UNIT)", e.getValue(), names.getSimpleName(), e.getKey())
            .isEqualTo(unit.get(null));
      }
    }
  }

  @Test
  void prometheusNamesFollowTheOpenTelemetryRules() {
    Map<String, MetricContract.Metric> names = contract.prometheusNames();
    assertThat(names).containsKeys(
        "wmscope_connection_active",
        "wmscope_connection_opened_total",
        "wmscope_connection_closed_total",
        "wmscope_connection_duration_seconds_bucket",
        "wmscope_network_io_bytes_total",
        "wmscope_tcp_rtt_seconds_bucket",
        "wmscope_tcp_retransmits_total",
        "wmscope_listen_queue_length",
        "wmscope_listen_queue_limit",
        "wmscope_listen_overflows_total",
        "wmscope_worker_stalled",
        "wmscope_worker_stalled_ratio",
        "wmscope_events_dropped_total",
        "wmscope_probe_skipped_runs_total",
        "wmscope_websocket_messages_total",
        "wmscope_websocket_message_size_bytes_bucket",
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_count");
    assertThat(names).doesNotContainKeys("wmscope_connection_active_total", "wmscope_tcp_rtt_seconds_total");
  }
}
