package dev.wmscope.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.resources.Resource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OtelSetupTest {
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

  private static Map<String, String> defaults(Map<String, String> config) {
    return OtelSetup.exportDefaults(DefaultConfigProperties.createFromMap(config));
  }

  @Test
  void withoutAnEndpointExportersDefaultToNone() {
    assertThat(defaults(Map.of())).containsEntry("otel.traces.exporter", "none")
        .containsEntry("otel.metrics.exporter", "none");
  }

  @Test
  void anEndpointTurnsOnOtlpForBothSignals() {
    assertThat(defaults(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318")))
        .containsEntry("otel.traces.exporter", "otlp").containsEntry("otel.metrics.exporter", "otlp");
    assertThat(defaults(Map.of("otel.exporter.otlp.traces.endpoint", "http://127.0.0.1:4318/v1/traces")))
        .containsEntry("otel.traces.exporter", "otlp");
  }

  @Test
  void explicitExportersAreLeftAlone() {
    assertThat(defaults(Map.of("otel.traces.exporter", "zipkin", "otel.metrics.exporter", "console")))
        .doesNotContainKey("otel.traces.exporter").doesNotContainKey("otel.metrics.exporter");
  }

  @Test
  void prometheusIsServedByTheAgentNotBySecondServer() {
    assertThat(defaults(Map.of("otel.metrics.exporter", "prometheus"))).containsEntry("otel.metrics.exporter", "none");
    assertThat(defaults(Map.of("otel.metrics.exporter", "otlp,prometheus"))).containsEntry("otel.metrics.exporter", "otlp");
  }

  @Test
  void flagsWinAndTheSamplerKeepsErrorsAndSlowConnections() {
    Telemetry t = OtelSetup.build(Map.of("otel.traces.exporter", "console"), "chat", false);
    try (var sdk = t.sdk()) {
      assertThat(sdk.getSdkTracerProvider().toString()).contains("LoggingSpanExporter");
      assertThat(sdk.getSdkTracerProvider().getSampler().getDescription())
          .isEqualTo("WmscopeConnectionSampler{keep=errors,retransmits,duration>=10000ms,else=ParentBased{root:AlwaysOnSampler,"
              + "remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,"
              + "localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}}");
      assertThat(t.prometheus()).isEmpty();
    }
  }

  @Test
  void ratioAndSlowThresholdComeFromTheirProperties() {
    Telemetry t = OtelSetup.build(Map.of("otel.traces.sampler", "traceidratio", "otel.traces.sampler.arg", "0.25",
        ExportNames.PROP_SLOW_THRESHOLD, "2500"), "chat", false);
    try (var sdk = t.sdk()) {
      assertThat(sdk.getSdkTracerProvider().getSampler().getDescription())
          .isEqualTo("WmscopeConnectionSampler{keep=errors,retransmits,duration>=2500ms,else=TraceIdRatioBased{0.250000}}");
    }
  }

  @Test
  void otlpDefaultsToHttpProtobuf() {
    // (no metric exporter here: shutting down would retry a final export against nothing)
    Telemetry t = OtelSetup.build(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318",
        "otel.metrics.exporter", "none"), "chat", false);
    try (var sdk = t.sdk()) {
      assertThat(sdk.getSdkTracerProvider().toString()).contains("OtlpHttpSpanExporter{endpoint=http://127.0.0.1:4318/v1/traces");
    }
    Telemetry grpc = OtelSetup.build(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4317",
        "otel.exporter.otlp.protocol", "grpc", "otel.metrics.exporter", "none"), "chat", false);
    try (var sdk = grpc.sdk()) {
      assertThat(sdk.getSdkTracerProvider().toString()).contains("OtlpGrpcSpanExporter");
    }
  }

  @Test
  void invalidSettingsAreConfigurationErrors() {
    assertThatThrownBy(() -> OtelSetup.build(Map.of("otel.traces.exporter", "jaeger-thrift"), "x", false))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("jaeger-thrift");
  }

  @Test
  void timeoutsIntervalsAndSizesBelowOneFailAtStartNamingTheVariable() {
    assertThatThrownBy(() -> OtelSetup.build(Map.of("otel.exporter.otlp.timeout", "-5"), "x", false))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage("invalid otel.exporter.otlp.timeout (OTEL_EXPORTER_OTLP_TIMEOUT): -5: must be positive, e.g. 10s");
    assertThatThrownBy(() -> OtelSetup.build(Map.of("otel.metric.export.interval", "0"), "x", false))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("OTEL_METRIC_EXPORT_INTERVAL");
    assertThatThrownBy(() -> OtelSetup.build(Map.of("otel.bsp.max.queue.size", "0"), "x", false))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("otel.bsp.max.queue.size");
    OtelSetup.build(Map.of("otel.exporter.otlp.timeout", "3s"), "x", false).sdk().close(); // a positive one is fine
  }

  @Test
  void serviceNameDefaultsToTheDiscoveredAppWithHostAndInstance() {
    Telemetry t = OtelSetup.build(Map.of(), "chat", true);
    try (var sdk = t.sdk()) {
      Resource r = t.resource();
      assertThat(r.getAttribute(SERVICE_NAME)).isEqualTo("chat");
      assertThat(r.getAttribute(OtelSetup.HOST_NAME)).isEqualTo(OtelSetup.hostName().orElseThrow());
      assertThat(UUID.fromString(r.getAttribute(OtelSetup.SERVICE_INSTANCE_ID))).isNotNull();
      assertThat(t.prometheus()).isPresent();
    }
  }

  // --- the resource rule on its own, with config maps standing in for the environment ---

  private static Resource resource(Map<String, String> config, Attributes fromEnvironment) {
    return OtelSetup.resource(Resource.create(fromEnvironment), DefaultConfigProperties.createFromMap(config),
        "chat", "instance-1", () -> Optional.of("host-a"));
  }

  @Test
  void otelServiceNameAndResourceAttributesBeatTheDiscoveredName() {
    // autoconfigure put OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES into the resource already
    Resource r = resource(Map.of(), Attributes.of(SERVICE_NAME, "from-otel", OtelSetup.HOST_NAME, "host-b"));
    assertThat(r.getAttribute(SERVICE_NAME)).isEqualTo("from-otel");
    assertThat(r.getAttribute(OtelSetup.HOST_NAME)).isEqualTo("host-b");
    assertThat(r.getAttribute(OtelSetup.SERVICE_INSTANCE_ID)).isEqualTo("instance-1");
  }

  @Test
  void theSdkDefaultNameIsReplaced() {
    Resource r = resource(Map.of(), Attributes.of(SERVICE_NAME, "unknown_service:java"));
    assertThat(r.getAttribute(SERVICE_NAME)).isEqualTo("chat");
    assertThat(r.getAttribute(OtelSetup.HOST_NAME)).isEqualTo("host-a");
  }

  @Test
  void wmscopeServiceNameBeatsOtelServiceName() {
    Resource r = resource(Map.of(ExportNames.PROP_SERVICE_NAME, "from-flag"), Attributes.of(SERVICE_NAME, "from-otel"));
    assertThat(r.getAttribute(SERVICE_NAME)).isEqualTo("from-flag");
  }

  @Test
  void disabledKeysStayOut() {
    Map<String, String> config = new HashMap<>();
    config.put("otel.resource.disabled.keys", "host.name,service.instance.id");
    Resource r = resource(config, Attributes.empty());
    assertThat(r.getAttribute(OtelSetup.HOST_NAME)).isNull();
    assertThat(r.getAttribute(OtelSetup.SERVICE_INSTANCE_ID)).isNull();
    assertThat(r.getAttribute(SERVICE_NAME)).isEqualTo("chat");
  }

  @Test
  void theEnvironmentResourceReachesTheSdk() {
    // the real path: otel.resource.attributes parsed by autoconfigure, then our rule
    Telemetry t = OtelSetup.build(Map.of("otel.resource.attributes", "service.name=billing,deployment.environment.name=prod"),
        "chat", false);
    try (var sdk = t.sdk()) {
      assertThat(t.resource().getAttribute(SERVICE_NAME)).isEqualTo("billing");
      assertThat(t.resource().getAttribute(AttributeKey.stringKey("deployment.environment.name"))).isEqualTo("prod");
    }
  }
}
