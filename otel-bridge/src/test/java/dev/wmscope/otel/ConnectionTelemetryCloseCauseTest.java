package dev.wmscope.otel;

import static dev.wmscope.otel.Events.SERVER_8080;
import static dev.wmscope.otel.Events.withDirection;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How a connection ended and whether it was found already open: span status and attributes, and
 * which metrics carry the cause. Values are spelled out, as they are a public contract.
 */
class ConnectionTelemetryCloseCauseTest {

  private final TestSdk otel = new TestSdk();
  private final InMemoryMetricReader reader = otel.reader;
  private final InMemorySpanExporter spans = otel.spans;
  private final ConnectionTelemetry telemetry = new ConnectionTelemetry(otel.sdk);

  @AfterEach
  void shutdown() {
    otel.close();
  }

  private List<MetricData> collect() {
    return List.copyOf(reader.collectAllMetrics());
  }

  private static MetricData metric(List<MetricData> metrics, String name) {
    return metrics.stream()
        .filter(m -> m.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name));
  }

  private SpanData onlySpan() {
    List<SpanData> finished = spans.getFinishedSpanItems();
    assertThat(finished).hasSize(1);
    return finished.getFirst();
  }

  private static Attributes plus(Attributes a, AttributeKey<String> key, String value) {
    return a.toBuilder().put(key, value).build();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "FIN_LOCAL,    fin_local,    false",
    "FIN_PEER,     fin_peer,     false",
    "RST_SENT,     rst_sent,     true",
    "RST_RECEIVED, rst_received, true",
    "TIMEOUT,      timeout,      true",
    "REFUSED,      refused,      true"
  })
  void eachCauseShapesTheSpanAndOnlyTheClosedAndDurationMetrics(
      CloseCause cause, String value, boolean abnormal) {
    assertThat(cause.value()).isEqualTo(value);
    assertThat(cause.abnormal()).isEqualTo(abnormal);
    ConnectionEvent e = Events.closedBy(Events.serverIpv4(), cause);
    telemetry.opened(Events.opening(e));
    telemetry.closed(e);

    // Span: ERROR with a description for resets, timeouts and refusals; UNSET for a FIN.
    Attributes base = ConnectionTelemetry.spanAttributes(Events.serverIpv4());
    Attributes withCause = plus(base, TelemetryNames.CLOSE_CAUSE, value);
    SpanData span = onlySpan();
    if (abnormal) {
      assertThat(span)
          .hasStatus(StatusData.create(StatusCode.ERROR, "close cause: " + value));
      assertThat(span).hasAttributes(plus(withCause, TelemetryNames.ERROR_TYPE, value));
    } else {
      assertThat(span).hasStatus(StatusData.unset());
      assertThat(span).hasAttributes(withCause);
    }

    // Metrics: the cause splits closed and duration (error.type on duration only when
    // abnormal); opened, active, network.io, rtt and retransmits never carry it.
    Attributes closedAttributes = closedBy(value);
    Attributes durationAttributes = withoutPid(abnormal ? failedBy(value) : closedAttributes);
    List<MetricData> metrics = collect();
    assertThat(metrics)
        .extracting(MetricData::getName)
        .containsExactlyInAnyOrder(
            "wmscope.connection.opened",
            "wmscope.connection.closed",
            "wmscope.connection.active",
            "wmscope.connection.duration",
            "wmscope.network.io",
            "wmscope.tcp.rtt",
            "wmscope.tcp.retransmits");
    assertThat(metric(metrics, "wmscope.connection.closed"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(closedAttributes)));
    assertThat(metric(metrics, "wmscope.connection.duration"))
        .hasHistogramSatisfying(
            h ->
                h.hasPointsSatisfying(
                    p -> p.hasCount(1).hasSum(2.5).hasAttributes(durationAttributes)));
    assertThat(metric(metrics, "wmscope.connection.opened"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(SERVER_8080)));
    assertThat(metric(metrics, "wmscope.connection.active"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(0).hasAttributes(SERVER_8080)));
    assertThat(metric(metrics, "wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(1200).hasAttributes(withDirection(SERVER_8080, "receive")),
                    p -> p.hasValue(3400).hasAttributes(withDirection(SERVER_8080, "transmit"))));
    assertThat(metric(metrics, "wmscope.tcp.rtt"))
        .hasHistogramSatisfying(
            h ->
                h.hasPointsSatisfying(
                    p -> p.hasCount(1).hasSum(250 / 1e6).hasAttributes(Events.SERVER_8080_HISTOGRAM)));
    assertThat(metric(metrics, "wmscope.tcp.retransmits"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(SERVER_8080)));
  }

  @Test
  void everyCauseAndTheUnknownCauseAreSeparateClosedSeriesOverOneActiveSeries() {
    for (CloseCause cause : CloseCause.values()) {
      ConnectionEvent e =
          Events.closedBy(Events.server(50_000 + cause.ordinal(), 1_000L, 1, 1), cause);
      telemetry.opened(Events.opening(e));
      telemetry.closed(e);
    }
    ConnectionEvent unknown = Events.server(51_000, 1_000L, 1, 1);
    telemetry.opened(Events.opening(unknown));
    telemetry.closed(unknown);

    List<MetricData> metrics = collect();
    assertThat(metric(metrics, "wmscope.connection.closed"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(1).hasAttributes(closedBy("fin_local")),
                    p -> p.hasValue(1).hasAttributes(closedBy("fin_peer")),
                    p -> p.hasValue(1).hasAttributes(closedBy("rst_sent")),
                    p -> p.hasValue(1).hasAttributes(closedBy("rst_received")),
                    p -> p.hasValue(1).hasAttributes(closedBy("timeout")),
                    p -> p.hasValue(1).hasAttributes(closedBy("refused")),
                    p -> p.hasValue(1).hasAttributes(SERVER_8080)));
    assertThat(metric(metrics, "wmscope.connection.duration"))
        .hasHistogramSatisfying(
            h ->
                h.hasPointsSatisfying(
                    p -> p.hasCount(1).hasAttributes(withoutPid(closedBy("fin_local"))),
                    p -> p.hasCount(1).hasAttributes(withoutPid(closedBy("fin_peer"))),
                    p -> p.hasCount(1).hasAttributes(withoutPid(failedBy("rst_sent"))),
                    p -> p.hasCount(1).hasAttributes(withoutPid(failedBy("rst_received"))),
                    p -> p.hasCount(1).hasAttributes(withoutPid(failedBy("timeout"))),
                    p -> p.hasCount(1).hasAttributes(withoutPid(failedBy("refused"))),
                    p -> p.hasCount(1).hasAttributes(Events.SERVER_8080_HISTOGRAM)));
    assertThat(metric(metrics, "wmscope.connection.opened"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(7).hasAttributes(SERVER_8080)));
    assertThat(metric(metrics, "wmscope.connection.active"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(0).hasAttributes(SERVER_8080)));
  }

  /** Closed-counter (and normal-close duration) attributes on SERVER_8080. */
  private static Attributes closedBy(String cause) {
    return plus(SERVER_8080, TelemetryNames.CLOSE_CAUSE, cause);
  }

  /** Histograms carry the counters' labels without process.pid. */
  private static Attributes withoutPid(Attributes a) {
    return a.toBuilder().remove(TelemetryNames.PROCESS_PID).build();
  }

  /** Duration attributes of an abnormal close on SERVER_8080. */
  private static Attributes failedBy(String cause) {
    return plus(closedBy(cause), TelemetryNames.ERROR_TYPE, cause);
  }

  @Test
  void unknownCauseLeavesTheStatusUnsetAndAddsNoCauseAttributes() {
    telemetry.closed(Events.serverIpv4());

    SpanData span = onlySpan();
    assertThat(span).hasStatus(StatusData.unset());
    assertThat(span.getAttributes().get(TelemetryNames.CLOSE_CAUSE)).isNull();
    assertThat(span.getAttributes().get(TelemetryNames.ERROR_TYPE)).isNull();
    assertThat(span.getAttributes().get(TelemetryNames.CONNECTION_PREEXISTING)).isNull();
  }

  @Test
  void preexistingConnectionSpanSaysSoAndMetricsDoNot() {
    ConnectionEvent e = Events.preexisting(Events.serverIpv4());
    telemetry.closed(e);

    assertThat(onlySpan())
        .hasAttributes(
            ConnectionTelemetry.spanAttributes(Events.serverIpv4()).toBuilder()
                .put(TelemetryNames.CONNECTION_PREEXISTING, true)
                .build());
    List<MetricData> metrics = collect();
    assertThat(metric(metrics, "wmscope.connection.closed"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(SERVER_8080)));
    assertThat(metric(metrics, "wmscope.connection.duration"))
        .hasHistogramSatisfying(
            h -> h.hasPointsSatisfying(p -> p.hasCount(1).hasAttributes(Events.SERVER_8080_HISTOGRAM)));
  }

  @Test
  void preexistingAttributeIsAbsentRatherThanFalse() {
    assertThat(Events.serverIpv4().preexisting()).isFalse();
    assertThat(
            ConnectionTelemetry.spanAttributes(Events.serverIpv4())
                .get(TelemetryNames.CONNECTION_PREEXISTING))
        .isNull();
  }

  @Test
  void preexistingAndAbnormalCombine() {
    ConnectionEvent e =
        Events.preexisting(Events.closedBy(Events.serverIpv4(), CloseCause.TIMEOUT));
    telemetry.closed(e);

    SpanData span = onlySpan();
    assertThat(span)
        .hasStatus(StatusData.create(StatusCode.ERROR, "close cause: timeout"));
    assertThat(span)
        .hasAttributes(
            ConnectionTelemetry.spanAttributes(Events.serverIpv4()).toBuilder()
                .put(TelemetryNames.CLOSE_CAUSE, "timeout")
                .put(TelemetryNames.ERROR_TYPE, "timeout")
                .put(TelemetryNames.CONNECTION_PREEXISTING, true)
                .build());
  }

  @Test
  void newSpanAttributesUseTheKeyNamesOfTheContract() {
    // The agent writes these keys as JSON; pin the wire names, not just the constants.
    Set<String> base = keyNames(ConnectionTelemetry.spanAttributes(Events.serverIpv4()));
    Set<String> all =
        keyNames(
            ConnectionTelemetry.spanAttributes(
                Events.preexisting(Events.closedBy(Events.serverIpv4(), CloseCause.RST_RECEIVED))));
    all.removeAll(base);
    assertThat(all)
        .containsExactlyInAnyOrder(
            "wmscope.close.cause", "error.type", "wmscope.connection.preexisting");
  }

  private static Set<String> keyNames(Attributes a) {
    Set<String> names = new HashSet<>();
    a.forEach((k, v) -> names.add(k.getKey()));
    return names;
  }
}
