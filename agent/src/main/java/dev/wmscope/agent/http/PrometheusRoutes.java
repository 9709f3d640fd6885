package dev.wmscope.agent.http;

import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * {@code GET /metrics}: every metric of the agent's meter provider in the Prometheus text
 * format (or OpenMetrics when the scraper asks for it in {@code Accept}), as collected by the
 * {@link PrometheusMetricReader} registered on the SDK next to any OTLP reader. Names follow
 * the OpenTelemetry-to-Prometheus rules: {@code wmscope.connection.opened} becomes
 * {@code wmscope_connection_opened_total}, {@code wmscope.network.io} (unit By) becomes
 * {@code wmscope_network_io_bytes_total}.
 *
 * <p>Collection runs on a worker thread, never the event loop.
 */
public final class PrometheusRoutes implements HttpRoutes {
  public static final String PATH = "/metrics";

  private static final System.Logger LOG = System.getLogger(PrometheusRoutes.class.getName());

  private final PrometheusMetricReader reader;
  private final ExpositionFormats formats = ExpositionFormats.init();

  public PrometheusRoutes(PrometheusMetricReader reader) {
    this.reader = reader;
  }

  @Override
  public void mount(Router router) {
    HttpRoutes.read(router, PATH).handler(this::scrape);
  }

  private void scrape(RoutingContext ctx) {
    ExpositionFormatWriter writer = writerFor(ctx.request().getHeader(HttpHeaders.ACCEPT));
    ctx.vertx().executeBlocking(() -> render(writer), false).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, writer.getContentType()).end(ar.result());
      } else {
        LOG.log(System.Logger.Level.WARNING, "collect metrics for " + PATH + ": " + ar.cause());
        ctx.response().setStatusCode(500).end("collect metrics: " + ar.cause().getMessage() + "\n");
      }
    });
  }

  private ExpositionFormatWriter writerFor(String accept) {
    ExpositionFormatWriter w = formats.findWriter(accept);
    // protobuf needs protobuf-java at run time, which the agent does not ship
    return w.isAvailable() ? w : formats.getPrometheusTextFormatWriter();
  }

  private Buffer render(ExpositionFormatWriter writer) throws IOException {
    MetricSnapshots snapshots = reader.collect();
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    writer.write(out, snapshots);
    return Buffer.buffer(out.toByteArray());
  }
}
