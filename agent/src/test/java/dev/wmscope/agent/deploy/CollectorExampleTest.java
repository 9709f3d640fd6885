package dev.wmscope.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * examples/otel-collector cannot run here (no container registry): check what can be checked.
 * Every file is valid YAML with the keys its component reads, the pieces point at each other
 * (ports, service names, mounted files), and the agent service runs as the README says.
 */
class CollectorExampleTest {
  static final String DIR = "examples/otel-collector/";

  private final Map<String, Object> compose = Repo.yaml(DIR + "compose.yaml");
  private final Map<String, Object> collector = Repo.yaml(DIR + "otel-collector.yaml");

  private Map<String, Object> service(String name) {
    Map<String, Object> s = Repo.at(compose, "services", name);
    assertThat(s).as("compose service %s", name).isNotNull();
    return s;
  }

  @Test
  void composeRunsTheStack() {
    Map<String, Object> services = Repo.at(compose, "services");
    assertThat(services).containsKeys("wmscope", "otel-collector", "jaeger", "prometheus", "grafana", "tempo");
    services.forEach((name, s) -> {
      @SuppressWarnings("unchecked") Map<String, Object> svc = (Map<String, Object>) s;
      assertThat(svc.containsKey("image") || svc.containsKey("build")).as("%s has an image or a build", name).isTrue();
      assertThat(svc.keySet()).as("keys of %s", name).isSubsetOf(Set.of("image", "build", "command",
          "environment", "volumes", "ports", "depends_on", "restart", "profiles", "privileged", "pid",
          "cgroup", "uts", "tmpfs", "cap_add", "cap_drop", "security_opt", "user"));
      List<String> depends = Repo.at(svc, "depends_on");
      if (depends != null) {
        assertThat(services).as("%s depends on services that exist", name).containsKeys(depends.toArray(String[]::new));
      }
    });
    assertThat(Repo.<List<String>>at(service("tempo"), "profiles")).containsExactly("tempo");
    assertThat(Repo.<List<String>>at(service("demo"), "profiles")).containsExactly("demo");
    assertThat(Repo.<String>at(service("otel-collector"), "image")).startsWith("otel/opentelemetry-collector-contrib:");
  }

  @Test
  void agentServiceRunsOnTheHostsViewAndSendsToTheCollector() {
    Map<String, Object> agent = service("wmscope");
    assertThat(Repo.<String>at(agent, "build", "context")).isEqualTo("../..");
    assertThat(Files.isRegularFile(Repo.root().resolve(DIR).resolve("../..").resolve(Repo.<String>at(agent, "build", "dockerfile")).normalize())).isTrue();
    assertThat(Repo.<Boolean>at(agent, "privileged")).isTrue();
    assertThat(Repo.<String>at(agent, "pid")).isEqualTo("host");
    assertThat(Repo.<String>at(agent, "cgroup")).isEqualTo("host");
    assertThat(Repo.<String>at(agent, "uts")).isEqualTo("host");
    assertThat(Repo.<List<String>>at(agent, "volumes")).contains("/sys/fs/cgroup:/sys/fs/cgroup:ro");
    assertThat(Repo.<String>at(agent, "environment", "OTEL_EXPORTER_OTLP_ENDPOINT")).isEqualTo("http://otel-collector:4317");
    assertThat(Repo.<String>at(agent, "environment", "OTEL_EXPORTER_OTLP_PROTOCOL")).isEqualTo("grpc");
    assertThat(Repo.<List<String>>at(agent, "command")).startsWith("run");
  }

  @Test
  void mountedFilesExist() {
    Map<String, Object> services = Repo.at(compose, "services");
    Path dir = Repo.root().resolve(DIR);
    services.forEach((name, s) -> {
      List<String> volumes = Repo.at(s, "volumes");
      for (String v : volumes == null ? List.<String>of() : volumes) {
        String source = v.split(":")[0];
        if (source.startsWith(".")) {
          assertThat(dir.resolve(source).normalize()).as("%s mounts %s", name, source).exists();
        }
      }
    });
  }

  @Test
  void collectorPipelinesUseDefinedComponents() {
    assertThat(Repo.<Object>at(collector, "receivers", "otlp", "protocols", "grpc", "endpoint")).isEqualTo("0.0.0.0:4317");
    assertThat(Repo.<Object>at(collector, "receivers", "otlp", "protocols", "http", "endpoint")).isEqualTo("0.0.0.0:4318");
    Map<String, Map<String, List<String>>> pipelines = Repo.at(collector, "service", "pipelines");
    assertThat(pipelines).containsKeys("traces", "metrics");
    pipelines.forEach((name, p) -> {
      for (String kind : List.of("receivers", "processors", "exporters")) {
        Map<String, Object> defined = Repo.at(collector, kind);
        assertThat(defined.keySet()).as("%s of pipeline %s are defined", kind, name).containsAll(p.getOrDefault(kind, List.of()));
      }
      assertThat(p.get("receivers")).as("pipeline %s", name).isNotEmpty();
      assertThat(p.get("exporters")).as("pipeline %s", name).isNotEmpty();
      assertThat(p.get("processors")).as("memory_limiter comes first").startsWith("memory_limiter");
    });
    Map<String, Object> extensions = Repo.at(collector, "extensions");
    assertThat(extensions.keySet()).containsAll(Repo.<List<String>>at(collector, "service", "extensions"));
  }

  @Test
  void tracesGoToJaegerOrTempoAndMetricsToPrometheus() {
    assertThat(Repo.<String>at(collector, "exporters", "otlp/traces", "endpoint")).isEqualTo("${env:TRACES_OTLP_ENDPOINT}");
    assertThat(Repo.<String>at(service("otel-collector"), "environment", "TRACES_OTLP_ENDPOINT"))
        .isEqualTo("${TRACES_OTLP_ENDPOINT:-jaeger:4317}");
    // Tempo's OTLP receiver listens where the collector would send
    Map<String, Object> tempo = Repo.yaml(DIR + "tempo.yaml");
    assertThat(Repo.<String>at(tempo, "distributor", "receivers", "otlp", "protocols", "grpc", "endpoint")).endsWith(":4317");
    assertThat(Repo.<Object>at(tempo, "server", "http_listen_port")).isEqualTo(3200);

    String promExporter = Repo.at(collector, "exporters", "prometheus", "endpoint");
    String port = promExporter.substring(promExporter.lastIndexOf(':') + 1);
    Map<String, Object> prometheus = Repo.yaml(DIR + "prometheus.yaml");
    List<String> targets = Repo.at(prometheus, "scrape_configs", 0, "static_configs", 0, "targets");
    assertThat(targets).containsExactly("otel-collector:" + port);
    assertThat(Repo.<Boolean>at(collector, "exporters", "prometheus", "resource_to_telemetry_conversion", "enabled")).isTrue();
  }

  @Test
  void grafanaProvisionsDatasourcesAndTheDashboard() {
    Map<String, Object> providers = Repo.yaml(DIR + "grafana/provisioning/dashboards/dashboards.yaml");
    String path = Repo.at(providers, "providers", 0, "options", "path");
    List<String> volumes = Repo.at(service("grafana"), "volumes");
    assertThat(volumes).contains("./grafana/dashboards:" + path + ":ro", "./grafana/provisioning:/etc/grafana/provisioning:ro");
    List<Map<String, Object>> sources = Repo.at(Repo.yaml(DIR + "grafana/provisioning/datasources/datasources.yaml"), "datasources");
    assertThat(sources).extracting(s -> s.get("url")).containsExactlyInAnyOrder(
        "http://prometheus:9090", "http://jaeger:16686", "http://tempo:3200");
    assertThat(sources.stream().filter(s -> Boolean.TRUE.equals(s.get("isDefault")))).hasSize(1);
  }

  @Test
  void readmeWalksThroughIt() {
    String readme = Repo.read(DIR + "README.md");
    assertThat(readme).contains("docker compose up", "http://localhost:3000", "http://localhost:16686",
        "--profile tempo", "--profile demo");
    try (Stream<Path> files = Files.list(Repo.root().resolve(DIR))) {
      files.filter(f -> f.toString().endsWith(".yaml"))
          .forEach(f -> assertThat(readme).as("README mentions %s", f.getFileName()).contains(f.getFileName().toString()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
