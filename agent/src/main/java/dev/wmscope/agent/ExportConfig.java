package dev.wmscope.agent;

import dev.wmscope.agent.http.HttpAddress;
import java.util.Map;
import java.util.Optional;

/**
 * How `wmscope run` exports, after flags are parsed: the OpenTelemetry settings the flags set
 * (applied over OTEL_* variables) and where the HTTP server (Prometheus {@code /metrics})
 * listens.
 *
 * @param otelOverrides otel.* and wmscope.* properties from flags; empty when only the
 *                      environment configures export
 * @param http          the HTTP server's address, empty to run without one
 */
public record ExportConfig(Map<String, String> otelOverrides, Optional<HttpAddress> http) {
  public ExportConfig {
    otelOverrides = Map.copyOf(otelOverrides);
  }
}
