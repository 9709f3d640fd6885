package dev.wmscope.otel;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.equalTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.ConnectionEvent.Side;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConnectionTelemetrySpanTest {

  private final TestSdk otel = new TestSdk();
  private final InMemorySpanExporter exporter = otel.spans;
  private final ConnectionTelemetry telemetry = new ConnectionTelemetry(otel.sdk);

  @AfterEach
  void shutdown() {
    otel.close();
  }

  private SpanData onlySpan() {
    List<SpanData> spans = exporter.getFinishedSpanItems();
    assertThat(spans).hasSize(1);
    return spans.getFirst();
  }

  @Test
  void serverIpv4SpanHasExactShape() {
    ConnectionEvent e = Events.serverIpv4();
    telemetry.closed(e);

    SpanData span = onlySpan();
    assertThat(span)
        .hasName("tcp 10.0.0.5:8080")
        .hasKind(SpanKind.SERVER)
        .startsAt(Events.START)
        .endsAt(Events.START + 2_500_000_000L)
        .hasAttributesSatisfyingExactly(
            equalTo(TelemetryNames.NETWORK_TRANSPORT, "tcp"),
            equalTo(TelemetryNames.NETWORK_TYPE, "ipv4"),
            equalTo(TelemetryNames.NETWORK_PEER_ADDRESS, "192.0.2.7"),
            equalTo(TelemetryNames.NETWORK_PEER_PORT, 51234L),
            equalTo(TelemetryNames.NETWORK_LOCAL_ADDRESS, "10.0.0.5"),
            equalTo(TelemetryNames.NETWORK_LOCAL_PORT, 8080L),
            equalTo(TelemetryNames.SERVER_ADDRESS, "10.0.0.5"),
            equalTo(TelemetryNames.SERVER_PORT, 8080L),
            equalTo(TelemetryNames.CLIENT_ADDRESS, "192.0.2.7"),
            equalTo(TelemetryNames.CLIENT_PORT, 51234L),
            equalTo(TelemetryNames.CONNECTION_SIDE, "server"),
            equalTo(TelemetryNames.CONNECTION_INTERNAL, false),
            equalTo(TelemetryNames.TCP_BYTES_RECEIVED, 1200L),
            equalTo(TelemetryNames.TCP_BYTES_SENT, 3400L),
            equalTo(TelemetryNames.TCP_SEGS_IN, 12L),
            equalTo(TelemetryNames.TCP_SEGS_OUT, 9L),
            equalTo(TelemetryNames.TCP_RTT_US, 250L),
            equalTo(TelemetryNames.TCP_RETRANSMITS, 1L),
            equalTo(TelemetryNames.CONNECTION_DURATION_MS, 2500.0),
            equalTo(TelemetryNames.PROCESS_PID, 4242L),
            equalTo(TelemetryNames.PROCESS_EXECUTABLE_NAME, "php"),
            equalTo(TelemetryNames.WORKERMAN_WORKER_NAME, "ChatGateway"),
            equalTo(TelemetryNames.WORKERMAN_WORKER_LISTEN, "websocket://0.0.0.0:8080"),
            equalTo(TelemetryNames.WORKERMAN_MASTER_PID, 4000L),
            equalTo(TelemetryNames.WORKERMAN_START_FILE, "/srv/chat/start.php"),
            equalTo(TelemetryNames.WORKERMAN_ROLE, "gateway"));
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(span.getInstrumentationScopeInfo().getName()).isEqualTo("dev.wmscope");
    assertThat(span.getInstrumentationScopeInfo().getSchemaUrl())
        .isEqualTo(TelemetryNames.SCHEMA_URL);
  }

  @Test
  void clientIpv6SpanHasExactShape() {
    ConnectionEvent e = Events.clientIpv6();
    telemetry.closed(e);

    // No pid, process name or worker: those attributes are left out, not zero or empty.
    assertThat(onlySpan())
        .hasName("tcp [2001:db8::2]:6379")
        .hasKind(SpanKind.CLIENT)
        .startsAt(Events.START)
        .endsAt(Events.START + 1_234_567L)
        .hasAttributesSatisfyingExactly(
            equalTo(TelemetryNames.NETWORK_TRANSPORT, "tcp"),
            equalTo(TelemetryNames.NETWORK_TYPE, "ipv6"),
            equalTo(TelemetryNames.NETWORK_PEER_ADDRESS, "2001:db8::2"),
            equalTo(TelemetryNames.NETWORK_PEER_PORT, 6379L),
            equalTo(TelemetryNames.NETWORK_LOCAL_ADDRESS, "2001:db8::1"),
            equalTo(TelemetryNames.NETWORK_LOCAL_PORT, 40000L),
            equalTo(TelemetryNames.SERVER_ADDRESS, "2001:db8::2"),
            equalTo(TelemetryNames.SERVER_PORT, 6379L),
            equalTo(TelemetryNames.CLIENT_ADDRESS, "2001:db8::1"),
            equalTo(TelemetryNames.CLIENT_PORT, 40000L),
            equalTo(TelemetryNames.CONNECTION_SIDE, "client"),
            equalTo(TelemetryNames.CONNECTION_INTERNAL, false),
            equalTo(TelemetryNames.TCP_BYTES_RECEIVED, 77L),
            equalTo(TelemetryNames.TCP_BYTES_SENT, 88L),
            equalTo(TelemetryNames.TCP_SEGS_IN, 3L),
            equalTo(TelemetryNames.TCP_SEGS_OUT, 4L),
            equalTo(TelemetryNames.TCP_RTT_US, 90L),
            equalTo(TelemetryNames.TCP_RETRANSMITS, 0L),
            equalTo(TelemetryNames.CONNECTION_DURATION_MS, 1.234567));
  }

  @Test
  void spanAttributesUseTheAttributeKeyNamesOfTheContract() {
    // The agent writes these keys as JSON; pin the wire names, not just the constants.
    assertThat(ConnectionTelemetry.spanAttributes(Events.serverIpv4()).asMap().keySet())
        .extracting(k -> k.getKey())
        .containsExactlyInAnyOrder(
            "network.transport",
            "network.type",
            "network.peer.address",
            "network.peer.port",
            "network.local.address",
            "network.local.port",
            "server.address",
            "server.port",
            "client.address",
            "client.port",
            "wmscope.connection.side",
            "wmscope.connection.internal",
            "wmscope.tcp.bytes_received",
            "wmscope.tcp.bytes_sent",
            "wmscope.tcp.segs_in",
            "wmscope.tcp.segs_out",
            "wmscope.tcp.rtt_us",
            "wmscope.tcp.retransmits",
            "wmscope.connection.duration_ms",
            "process.pid",
            "process.executable.name",
            "workerman.worker.name",
            "workerman.worker.listen",
            "workerman.master.pid",
            "workerman.start_file",
            "workerman.role");
  }

  @Test
  void internalConnectionSpanSaysSoAndDiffersInNothingElse() {
    ConnectionEvent external = Events.serverIpv4();
    telemetry.closed(Events.internal(external));

    assertThat(onlySpan())
        .hasAttribute(TelemetryNames.CONNECTION_INTERNAL, true)
        .hasAttributes(
            ConnectionTelemetry.spanAttributes(external).toBuilder()
                .put(TelemetryNames.CONNECTION_INTERNAL, true)
                .build());
  }

  @Test
  void loopbackIpv6ServerNameIsBracketed() {
    ConnectionEvent e =
        new ConnectionEvent(
            Side.SERVER, true, "::1", 8080, "::1", 50000, Events.START, Events.START + 1, 0, 0, 0,
            0, 0, 0, 0, "", null, false);
    assertThat(ConnectionTelemetry.spanName(e)).isEqualTo("tcp [::1]:8080");
  }

  @Test
  void eventWithoutEndTimeNeverEndsBeforeItStarts() {
    telemetry.closed(Events.opening(Events.serverIpv4()));
    assertThat(onlySpan()).startsAt(Events.START).endsAt(Events.START);
  }

  @Test
  void droppedSpansExportNothing() {
    InMemorySpanExporter dropped = InMemorySpanExporter.create();
    try (OpenTelemetrySdk off =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setSampler(Sampler.alwaysOff())
                    .addSpanProcessor(SimpleSpanProcessor.create(dropped))
                    .build())
            .build()) {
      new ConnectionTelemetry(off).closed(Events.serverIpv4());
    }
    assertThat(dropped.getFinishedSpanItems()).isEmpty();
  }
}
