package dev.wmscope.agent.telemetry;

import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Optional;

/**
 * The agent's OpenTelemetry SDK as {@link OtelSetup} built it.
 *
 * @param sdk          the SDK; the agent owns it and shuts it down last (flushing exporters)
 * @param prometheus   the pull reader behind {@code /metrics}, when the HTTP server is enabled;
 *                     shut down with the SDK
 * @param exportHealth export failure tracking and self-metrics
 * @param resource     the resource every span and metric carries
 * @param spansExported whether any span exporter is configured (otel.traces.exporter is not
 *                     only none): without one, spans nobody can see need not be made
 */
public record Telemetry(OpenTelemetrySdk sdk, Optional<PrometheusMetricReader> prometheus,
    ExportHealth exportHealth, Resource resource, boolean spansExported, LateMetricProducers lateProducers) {
}
