package dev.wmscope.agent.telemetry;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds the OpenTelemetry SDK with the SDK's autoconfigure, so every standard OTEL_* variable
 * (and -Dotel.* property) works as documented upstream. wmscope changes only the defaults:
 * without an OTLP endpoint the exporters default to none, so a host with no collector gets no
 * stream of failed-export errors; an explicit OTEL_*_EXPORTER always wins.
 */
public final class OtelSetup {
  private OtelSetup() {}

  /**
   * @param env        the environment (System::getenv in production)
   * @param overrides  settings from wmscope's own flags, applied over the environment
   */
  public static OpenTelemetrySdk build(Function<String, String> env, Map<String, String> overrides) {
    Map<String, String> defaults = defaults(env);
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        .addPropertiesSupplier(() -> overrides)
        .disableShutdownHook() // the agent shuts the SDK down itself, after the probe stops
        .build()
        .getOpenTelemetrySdk();
  }

  static Map<String, String> defaults(Function<String, String> env) {
    Map<String, String> d = new HashMap<>();
    d.put("otel.service.name", "wmscope");
    boolean endpoint = present(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
        || present(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        || present(env, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
        || System.getProperty("otel.exporter.otlp.endpoint") != null;
    if (!endpoint) {
      d.put("otel.traces.exporter", "none");
      d.put("otel.metrics.exporter", "none");
    }
    d.put("otel.logs.exporter", "none"); // wmscope emits no log records
    return d;
  }

  private static boolean present(Function<String, String> env, String name) {
    String v = env.apply(name);
    return v != null && !v.isBlank();
  }
}
