package dev.wmscope.agent.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * A minimal OTLP/HTTP (protobuf) receiver on loopback: what arrives at /v1/traces, /v1/metrics
 * and /v1/logs is decoded with the official opentelemetry-proto classes, so the test checks the
 * bytes on the wire, not our own model of them.
 */
final class OtlpHttpReceiver implements OtlpReceiver {
  private final HttpServer server;
  private final List<ResourceSpans> spans = new CopyOnWriteArrayList<>();
  private final List<ResourceMetrics> metrics = new CopyOnWriteArrayList<>();
  private final List<io.opentelemetry.proto.logs.v1.ResourceLogs> logs = new CopyOnWriteArrayList<>();

  OtlpHttpReceiver() throws IOException {
    this(0);
  }

  /** A receiver on a given loopback port (0: any free one), e.g. to come back where it was. */
  OtlpHttpReceiver(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    server.createContext("/v1/traces", ex -> handle(ex, true));
    server.createContext("/v1/metrics", ex -> handle(ex, false));
    server.createContext("/v1/logs", this::handleLogs);
    server.start();
  }

  @Override
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Override
  public List<ResourceSpans> spans() {
    return spans;
  }

  @Override
  public List<ResourceMetrics> metrics() {
    return metrics;
  }

  private void handle(HttpExchange ex, boolean traces) throws IOException {
    try (ex) {
      InputStream body = ex.getRequestBody();
      if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
        body = new GZIPInputStream(body);
      }
      byte[] response;
      if (traces) {
        spans.addAll(ExportTraceServiceRequest.parseFrom(body).getResourceSpansList());
        response = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
      } else {
        metrics.addAll(ExportMetricsServiceRequest.parseFrom(body).getResourceMetricsList());
        response = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
      }
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, response.length);
      ex.getResponseBody().write(response);
    }
  }

  /** Log records received at /v1/logs. */
  List<io.opentelemetry.proto.logs.v1.ResourceLogs> logs() {
    return logs;
  }

  private void handleLogs(HttpExchange ex) throws IOException {
    try (ex) {
      InputStream body = ex.getRequestBody();
      if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
        body = new GZIPInputStream(body);
      }
      logs.addAll(io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(body)
          .getResourceLogsList());
      byte[] response = io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse.getDefaultInstance()
          .toByteArray();
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, response.length);
      ex.getResponseBody().write(response);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
