package dev.wmscope.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The provisioned Grafana dashboard (examples/otel-collector) is valid JSON, well formed for
 * Grafana, and queries only metrics and labels of the metric contract, so a renamed metric
 * cannot silently leave a panel empty.
 */
class GrafanaDashboardTest {
  static final String DASHBOARD = "examples/otel-collector/grafana/dashboards/wmscope.json";
  static final String DATASOURCES = "examples/otel-collector/grafana/provisioning/datasources/datasources.yaml";

  private final MetricContract contract = MetricContract.load();
  private final JsonObject dashboard = JsonParser.parseString(Repo.read(DASHBOARD)).getAsJsonObject();

  /** Every PromQL expression of the dashboard: panel targets and variable queries. */
  private Map<String, String> expressions() {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonObject panel : panels()) {
      JsonArray targets = panel.has("targets") ? panel.getAsJsonArray("targets") : new JsonArray();
      for (JsonElement t : targets) {
        String expr = t.getAsJsonObject().get("expr").getAsString();
        out.put("panel \"" + panel.get("title").getAsString() + "\" " + t.getAsJsonObject().get("refId").getAsString(), expr);
      }
    }
    for (JsonElement v : dashboard.getAsJsonObject("templating").getAsJsonArray("list")) {
      JsonObject var = v.getAsJsonObject();
      if (var.get("type").getAsString().equals("query")) {
        out.put("variable $" + var.get("name").getAsString(), var.getAsJsonObject("query").get("query").getAsString());
      }
    }
    return out;
  }

  private List<JsonObject> panels() {
    List<JsonObject> out = new ArrayList<>();
    for (JsonElement p : dashboard.getAsJsonArray("panels")) {
      out.add(p.getAsJsonObject());
      if (p.getAsJsonObject().has("panels")) {
        p.getAsJsonObject().getAsJsonArray("panels").forEach(c -> out.add(c.getAsJsonObject()));
      }
    }
    return out;
  }

  @Test
  void queriesUseOnlyContractMetricsAndLabels() {
    Set<String> names = contract.prometheusNames().keySet();
    Set<String> labels = contract.labels();
    Map<String, String> exprs = expressions();
    assertThat(exprs).hasSizeGreaterThan(10);
    exprs.forEach((where, expr) -> {
      PromQl q = PromQl.parse(expr);
      assertThat(q.metrics()).as("metrics in %s: %s", where, expr).isSubsetOf(names);
      for (Pattern p : q.metricPatterns()) {
        assertThat(names.stream().filter(n -> p.matcher(n).matches()))
            .as("__name__ pattern %s in %s matches a contract metric", p, where).isNotEmpty();
        assertThat(names.stream().filter(n -> p.matcher(n).matches())
                .map(n -> contract.prometheusNames().get(n).name()).distinct())
            .as("__name__ pattern %s in %s matches one metric only", p, where).hasSize(1);
      }
      assertThat(q.metrics().size() + q.metricPatterns().size())
          .as("%s queries a metric: %s", where, expr).isPositive();
      assertThat(q.labels()).as("labels in %s: %s", where, expr).isSubsetOf(labels);
    });
  }

  @Test
  void panelsCoverWhatAnOperatorAsksFirst() {
    Set<String> used = new HashSet<>();
    expressions().values().forEach(e -> {
      PromQl q = PromQl.parse(e);
      q.metrics().forEach(n -> used.add(contract.prometheusNames().get(n).name()));
      q.metricPatterns().forEach(p -> contract.prometheusNames().forEach((n, m) -> {
        if (p.matcher(n).matches()) {
          used.add(m.name());
        }
      }));
    });
    // workers, active connections, throughput, RTT, retransmits, resets (close causes),
    // accept queue, stalled workers, and loss
    assertThat(used).contains(
        "wmscope.connection.active", "wmscope.connection.opened", "wmscope.connection.closed",
        "wmscope.network.io", "wmscope.tcp.rtt", "wmscope.tcp.retransmits",
        "wmscope.listen.queue.length", "wmscope.listen.queue.limit", "wmscope.listen.overflows",
        "wmscope.worker.stalled", "wmscope.events.dropped");
    assertThat(String.join("\n", expressions().values())).contains("rst_sent|rst_received");
  }

  @Test
  void dashboardIsWellFormedForGrafana() {
    assertThat(dashboard.get("uid").getAsString()).matches("[a-zA-Z0-9_-]{1,40}");
    assertThat(dashboard.get("title").getAsString()).isNotBlank();
    assertThat(dashboard.get("schemaVersion").getAsInt()).isGreaterThanOrEqualTo(36);
    assertThat(dashboard.has("id")).as("provisioned dashboards carry no numeric id").isFalse();

    Set<Integer> ids = new HashSet<>();
    for (JsonObject p : panels()) {
      String title = p.get("title").getAsString();
      assertThat(ids.add(p.get("id").getAsInt())).as("panel id of %s is unique", title).isTrue();
      JsonObject grid = p.getAsJsonObject("gridPos");
      assertThat(grid.get("w").getAsInt() + grid.get("x").getAsInt()).as("%s fits 24 columns", title).isLessThanOrEqualTo(24);
      if (!p.get("type").getAsString().equals("row")) {
        assertThat(p.getAsJsonObject("datasource").get("uid").getAsString()).as("datasource of %s", title).isEqualTo("${datasource}");
        assertThat(p.getAsJsonArray("targets")).as("targets of %s", title).isNotEmpty();
      }
    }
  }

  @Test
  void variablesAndLinksPointAtProvisionedDatasources() {
    Map<String, Object> provisioned = Repo.yaml(DATASOURCES);
    List<Map<String, Object>> sources = Repo.at(provisioned, "datasources");
    Map<String, String> typeByUid = new LinkedHashMap<>();
    sources.forEach(s -> typeByUid.put((String) s.get("uid"), (String) s.get("type")));
    assertThat(typeByUid).containsEntry("prometheus", "prometheus").containsEntry("jaeger", "jaeger")
        .containsEntry("tempo", "tempo");

    JsonObject dsVar = null;
    for (JsonElement v : dashboard.getAsJsonObject("templating").getAsJsonArray("list")) {
      if (v.getAsJsonObject().get("name").getAsString().equals("datasource")) {
        dsVar = v.getAsJsonObject();
      }
    }
    assertThat(dsVar).as("a datasource variable").isNotNull();
    assertThat(dsVar.get("query").getAsString()).isEqualTo("prometheus");
    assertThat(typeByUid).containsKey(dsVar.getAsJsonObject("current").get("value").getAsString());
    for (JsonElement link : dashboard.getAsJsonArray("links")) {
      String url = link.getAsJsonObject().get("url").getAsString();
      assertThat(typeByUid.keySet().stream().anyMatch(url::contains)).as("link %s names a provisioned datasource", url).isTrue();
    }
  }

  @Test
  void promQlReaderFindsNamesAndLabels() {
    PromQl q = PromQl.parse("histogram_quantile(0.99, sum by (le, workerman_worker_name) "
        + "(rate(wmscope_tcp_rtt_seconds_bucket{host_name=~\"$host\", server_port=~\"a|b\"}[$__rate_interval])))"
        + " or max by (process_pid) ({__name__=~\"wmscope_worker_stalled(_ratio)?\", x=\"rate\"}) or vector(0)");
    assertThat(q.metrics()).containsExactly("wmscope_tcp_rtt_seconds_bucket");
    assertThat(q.metricPatterns()).extracting(Pattern::pattern).containsExactly("wmscope_worker_stalled(_ratio)?");
    assertThat(q.labels()).containsExactlyInAnyOrder("le", "workerman_worker_name", "host_name", "server_port", "process_pid", "x");
    assertThat(PromQl.parse("label_values(wmscope_connection_active, host_name)").labels()).containsExactly("host_name");
    assertThat(PromQl.parse("label_values(wmscope_connection_active, host_name)").metrics()).containsExactly("wmscope_connection_active");
  }
}
