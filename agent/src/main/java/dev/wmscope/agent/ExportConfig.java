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
 * @param httpToken     the bearer token every HTTP request but /healthz must carry, if any
 */
public record ExportConfig(Map<String, String> otelOverrides, Optional<HttpAddress> http, Optional<String> httpToken) {
  public ExportConfig {
    otelOverrides = Map.copyOf(otelOverrides);
  }

  /** No token: the HTTP server answers every request that passes its other checks. */
  public ExportConfig(Map<String, String> otelOverrides, Optional<HttpAddress> http) {
    this(otelOverrides, http, Optional.empty());
  }

  /** Never the token itself: configurations end up in logs and test reports. */
  @Override
  public String toString() {
    return "ExportConfig[otelOverrides=" + otelOverrides + ", http=" + http + ", httpToken="
        + (httpToken.isPresent() ? "(set)" : "none") + "]";
  }
}
