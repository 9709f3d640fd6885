package dev.wmscope.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class OtelSetupTest {
  @Test
  void withoutAnEndpointExportersDefaultToNone() {
    var d = OtelSetup.defaults(Map.<String, String>of()::get);
    assertThat(d).containsEntry("otel.traces.exporter", "none").containsEntry("otel.metrics.exporter", "none")
        .containsEntry("otel.logs.exporter", "none").containsEntry("otel.service.name", "wmscope");
  }

  @Test
  void anEndpointLeavesTheOtlpDefaultsInPlace() {
    var d = OtelSetup.defaults(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")::get);
    assertThat(d).doesNotContainKey("otel.traces.exporter").doesNotContainKey("otel.metrics.exporter");
  }

  @Test
  void explicitSettingsWinOverOurDefaults() {
    // settings passed by wmscope flags are applied after the defaults
    try (var sdk = OtelSetup.build(Map.<String, String>of()::get, Map.of("otel.traces.exporter", "console"))) {
      assertThat(sdk.getSdkTracerProvider().toString()).contains("LoggingSpanExporter");
    }
  }
}
