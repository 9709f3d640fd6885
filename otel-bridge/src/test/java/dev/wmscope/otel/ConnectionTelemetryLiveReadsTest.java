package dev.wmscope.otel;

import static dev.wmscope.otel.Events.SERVER_8080;
import static dev.wmscope.otel.Events.withDirection;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.ConnectionEvent.Side;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Live reads of open connections ({@code transferred}, {@code retransmitted}, {@code rttSample})
 * together with the close that follows: counters see every byte and segment exactly once, the
 * span always carries the connection's full totals.
 */
class ConnectionTelemetryLiveReadsTest {

  private final TestSdk otel = new TestSdk();
  private final InMemoryMetricReader reader = otel.reader;
  private final InMemorySpanExporter spans = otel.spans;
  private final ConnectionTelemetry telemetry = new ConnectionTelemetry(otel.sdk);

  @AfterEach
  void shutdown() {
    otel.close();
  }

  /**
   * The ChatGateway worker's (pid 4242) SERVER connection from 192.0.2.7:51234 to 10.0.0.5:8080,
   * 1 s long, closed with these totals.
   */
  private static ConnectionEvent closing(
      long received, long sent, long srttMicros, long retransmits) {
    return new ConnectionEvent(
        Side.SERVER, false, "10.0.0.5", 8080, "192.0.2.7", 51234, Events.START,
        Events.START + 1_000_000_000L, received, sent, 7, 5, srttMicros, retransmits, 4242, "php",
        Events.GATEWAY, false);
  }

  private List<MetricData> collect() {
    return List.copyOf(reader.collectAllMetrics());
  }

  private MetricData metric(String name) {
    return collect().stream()
        .filter(m -> m.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name));
  }

  private SpanData onlySpan() {
    List<SpanData> finished = spans.getFinishedSpanItems();
    assertThat(finished).hasSize(1);
    return finished.getFirst();
  }

  private void assertNetworkIo(long received, long sent) {
    assertThat(metric("wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic()
                    .isCumulative()
                    .hasPointsSatisfying(
                        p ->
                            p.hasValue(received)
                                .hasAttributes(withDirection(SERVER_8080, "receive")),
                        p ->
                            p.hasValue(sent)
                                .hasAttributes(withDirection(SERVER_8080, "transmit"))));
  }

  private void assertRetransmits(long segments) {
    assertThat(metric("wmscope.tcp.retransmits"))
        .hasUnit("{segment}")
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic()
                    .isCumulative()
                    .hasPointsSatisfying(p -> p.hasValue(segments).hasAttributes(SERVER_8080)));
  }

  @Test
  void liveDeltasPlusTheUncountedRemainderAtCloseCountEachByteOnce() {
    ConnectionEvent closing = closing(350, 1_500, 100, 3);
    ConnectionEvent open = Events.opening(closing);
    telemetry.opened(open);
    telemetry.transferred(open, 100, 1_000);
    telemetry.retransmitted(open, 2);

    // Live reads are visible before the connection closes, and no span exists yet.
    assertNetworkIo(100, 1_000);
    assertRetransmits(2);
    assertThat(spans.getFinishedSpanItems()).isEmpty();

    telemetry.transferred(open, 200, 0); // nothing sent since the last read: no transmit add
    telemetry.closed(closing, 50, 500, 1);

    assertNetworkIo(100 + 200 + 50, 1_000 + 500);
    assertRetransmits(2 + 1);
    // The span carries the event's full totals, not the uncounted remainder.
    assertThat(onlySpan())
        .hasAttribute(TelemetryNames.TCP_BYTES_RECEIVED, 350L)
        .hasAttribute(TelemetryNames.TCP_BYTES_SENT, 1_500L)
        .hasAttribute(TelemetryNames.TCP_RETRANSMITS, 3L)
        .hasAttributes(ConnectionTelemetry.spanAttributes(closing));
  }

  @Test
  void closeWithNothingUncountedAddsNoBytesOrSegments() {
    ConnectionEvent closing = closing(350, 1_500, 100, 3);
    ConnectionEvent open = Events.opening(closing);
    telemetry.transferred(open, 350, 1_500);
    telemetry.retransmitted(open, 3);
    telemetry.closed(closing, 0, 0, 0);

    assertNetworkIo(350, 1_500);
    assertRetransmits(3);
    assertThat(onlySpan())
        .hasAttribute(TelemetryNames.TCP_BYTES_RECEIVED, 350L)
        .hasAttribute(TelemetryNames.TCP_BYTES_SENT, 1_500L)
        .hasAttribute(TelemetryNames.TCP_RETRANSMITS, 3L);
  }

  @Test
  void closeWithoutLiveReadsCountsTheEventsFullTotals() {
    telemetry.closed(closing(350, 1_500, 100, 3));

    assertNetworkIo(350, 1_500);
    assertRetransmits(3);
  }

  @Test
  void zeroAndNegativeDeltasAndSamplesRecordNothing() {
    ConnectionEvent open = Events.opening(closing(0, 0, 0, 0));
    telemetry.transferred(open, 0, 0);
    telemetry.transferred(open, -5, -7);
    telemetry.retransmitted(open, 0);
    telemetry.retransmitted(open, -1);
    telemetry.rttSample(open, 0);
    telemetry.rttSample(open, -3);
    // no bytes, no sample, and no series made up from nothing
    assertThat(collect()).isEmpty();

    // Each direction is judged on its own.
    telemetry.transferred(open, -5, 10);
    assertThat(metric("wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(10).hasAttributes(withDirection(SERVER_8080, "transmit"))));
  }

  @Test
  void closeWithoutSrttOrRetransmitsRecordsNoSampleAndZeroSegments() {
    telemetry.closed(closing(1, 1, 0, 0));

    assertThat(collect())
        .extracting(MetricData::getName)
        .doesNotContain("wmscope.tcp.rtt")
        .contains("wmscope.connection.closed");
    // the counter's series exists from the first connection of its label set on, at 0
    assertThat(metric("wmscope.tcp.retransmits"))
        .hasLongSumSatisfying(sum -> sum.isMonotonic().hasPointsSatisfying(p -> p.hasValue(0)));
  }

  @Test
  void rttHistogramRecordsSecondsWithLoopbackToDyingLinkBuckets() {
    ConnectionEvent closing = closing(1, 1, 40_000, 0); // 40 ms at close: (0.025, 0.05]
    ConnectionEvent open = Events.opening(closing);
    telemetry.rttSample(open, 10); // 10 µs: exactly the first bound, (-inf, 0.00001]
    telemetry.rttSample(open, 250); // (0.0001, 0.00025]
    telemetry.rttSample(open, 1_200); // (0.001, 0.0025]
    telemetry.rttSample(open, 20_000_000); // 20 s: overflow
    telemetry.closed(closing, 0, 0, 0);

    assertThat(metric("wmscope.tcp.rtt"))
        .hasUnit("s")
        .hasDescription(TelemetryNames.TCP_RTT_DESCRIPTION)
        .hasHistogramSatisfying(
            h ->
                h.isCumulative()
                    .hasPointsSatisfying(
                        p ->
                            p.hasCount(5)
                                // summed in record order, as the SDK does
                                .hasSum(10 / 1e6 + 250 / 1e6 + 1_200 / 1e6 + 20.0 + 0.04)
                                .hasMin(0.00001)
                                .hasMax(20.0)
                                .hasAttributes(Events.SERVER_8080_HISTOGRAM)
                                .hasBucketBoundaries(
                                    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                    0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                    10)
                                .hasBucketCounts(
                                    1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1)));
  }
}
