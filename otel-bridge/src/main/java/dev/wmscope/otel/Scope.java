package dev.wmscope.otel;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterBuilder;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerBuilder;

/**
 * The one instrumentation scope of the bridge: name {@value TelemetryNames#SCOPE_NAME}, the
 * semconv schema URL, and the version from the jar manifest (absent when run from classes/), so
 * every class reports under the same scope.
 */
final class Scope {
  private Scope() {}

  private static final String VERSION = Scope.class.getPackage().getImplementationVersion();

  static Meter meter(OpenTelemetry openTelemetry) {
    MeterBuilder b = openTelemetry.getMeterProvider().meterBuilder(TelemetryNames.SCOPE_NAME)
        .setSchemaUrl(TelemetryNames.SCHEMA_URL);
    if (VERSION != null) {
      b.setInstrumentationVersion(VERSION);
    }
    return b.build();
  }

  static Tracer tracer(OpenTelemetry openTelemetry) {
    TracerBuilder b = openTelemetry.getTracerProvider().tracerBuilder(TelemetryNames.SCOPE_NAME)
        .setSchemaUrl(TelemetryNames.SCHEMA_URL);
    if (VERSION != null) {
      b.setInstrumentationVersion(VERSION);
    }
    return b.build();
  }
}
