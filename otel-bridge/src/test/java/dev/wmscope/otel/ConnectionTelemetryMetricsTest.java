package dev.wmscope.otel;

import static dev.wmscope.otel.Events.SERVER_8080;
import static dev.wmscope.otel.Events.withDirection;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConnectionTelemetryMetricsTest {

  private final TestSdk otel = new TestSdk();
  private final InMemoryMetricReader reader = otel.reader;
  private final ConnectionTelemetry telemetry = new ConnectionTelemetry(otel.sdk);

  @AfterEach
  void shutdown() {
    otel.close();
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

  private void openAndClose(ConnectionEvent e) {
    telemetry.opened(Events.opening(e));
    telemetry.closed(e);
  }

  @Test
  void everyInstrumentHasItsNameUnitDescriptionAndScope() {
    // serverIpv4 has an RTT and retransmitted once, so every instrument reports a point.
    openAndClose(Events.serverIpv4());

    // Names and units are the public contract, so they are spelled out here.
    assertThat(collect())
        .extracting(MetricData::getName, MetricData::getUnit, MetricData::getDescription)
        .containsExactlyInAnyOrder(
            tuple(
                "wmscope.connection.opened",
                "{connection}",
                TelemetryNames.CONNECTIONS_OPENED_DESCRIPTION),
            tuple(
                "wmscope.connection.closed",
                "{connection}",
                TelemetryNames.CONNECTIONS_CLOSED_DESCRIPTION),
            tuple(
                "wmscope.connection.active",
                "{connection}",
                TelemetryNames.CONNECTIONS_ACTIVE_DESCRIPTION),
            tuple("wmscope.connection.duration", "s", TelemetryNames.CONNECTION_DURATION_DESCRIPTION),
            tuple("wmscope.network.io", "By", TelemetryNames.NETWORK_IO_DESCRIPTION),
            tuple("wmscope.tcp.rtt", "s", TelemetryNames.TCP_RTT_DESCRIPTION),
            tuple(
                "wmscope.tcp.retransmits",
                "{segment}",
                TelemetryNames.TCP_RETRANSMITS_DESCRIPTION));
    assertThat(collect())
        .extracting(MetricData::getDescription)
        .allSatisfy(d -> assertThat(d).isNotBlank().doesNotContain("\n"));
    assertThat(collect())
        .allSatisfy(
            m -> {
              assertThat(m.getInstrumentationScopeInfo().getName()).isEqualTo("dev.wmscope");
              assertThat(m.getInstrumentationScopeInfo().getSchemaUrl())
                  .isEqualTo(TelemetryNames.SCHEMA_URL);
            });
  }

  @Test
  void countersTrackOpensAndClosesAndActiveReturnsToZero() {
    List<ConnectionEvent> events =
        List.of(
            Events.server(50001, 1_000_000L, 1, 1),
            Events.server(50002, 1_000_000L, 1, 1),
            Events.server(50003, 1_000_000L, 1, 1));
    events.forEach(e -> telemetry.opened(Events.opening(e)));

    assertThat(metric("wmscope.connection.opened"))
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic()
                    .isCumulative()
                    .hasPointsSatisfying(p -> p.hasValue(3).hasAttributes(SERVER_8080)));
    assertThat(metric("wmscope.connection.active"))
        .hasLongSumSatisfying(
            sum ->
                sum.isNotMonotonic()
                    .hasPointsSatisfying(p -> p.hasValue(3).hasAttributes(SERVER_8080)));

    telemetry.closed(events.get(0));
    telemetry.closed(events.get(1));
    assertThat(metric("wmscope.connection.closed"))
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic().hasPointsSatisfying(p -> p.hasValue(2).hasAttributes(SERVER_8080)));
    assertThat(metric("wmscope.connection.active"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(SERVER_8080)));

    telemetry.closed(events.get(2));
    assertThat(metric("wmscope.connection.closed"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(p -> p.hasValue(3)));
    assertThat(metric("wmscope.connection.active"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(0).hasAttributes(SERVER_8080)));
  }

  @Test
  void networkIoSumsEachDirectionExactly() {
    telemetry.closed(Events.server(50001, 1_000L, 100, 1_000));
    telemetry.closed(Events.server(50002, 1_000L, 0, 2_000)); // nothing received: no add
    telemetry.closed(Events.server(50003, 1_000L, 300, 0));

    assertThat(metric("wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic()
                    .hasPointsSatisfying(
                        p ->
                            p.hasValue(400)
                                .hasAttributes(withDirection(SERVER_8080, "receive")),
                        p ->
                            p.hasValue(3_000)
                                .hasAttributes(withDirection(SERVER_8080, "transmit"))));
  }

  @Test
  void idleConnectionsRecordNoNetworkIo() {
    telemetry.closed(Events.server(50001, 1_000L, 0, 0));
    assertThat(collect()).extracting(MetricData::getName).doesNotContain("wmscope.network.io");
  }

  @Test
  void durationHistogramHasCountSumAndDayLongBuckets() {
    telemetry.closed(Events.server(50001, 250_000_000L, 1, 1)); // 0.25 s: bucket (0.1, 0.25]
    telemetry.closed(Events.server(50002, 500_000_000L, 1, 1)); // 0.5 s: bucket (0.25, 0.5]
    telemetry.closed(Events.server(50003, 2_000_000_000L, 1, 1)); // 2 s: bucket (1, 2.5]
    telemetry.closed(Events.server(50004, 100_000_000_000_000L, 1, 1)); // > a day: overflow

    assertThat(metric("wmscope.connection.duration"))
        .hasHistogramSatisfying(
            h ->
                h.isCumulative()
                    .hasPointsSatisfying(
                        p ->
                            p.hasCount(4)
                                .hasSum(0.25 + 0.5 + 2.0 + 100_000.0)
                                .hasMin(0.25)
                                .hasMax(100_000.0)
                                .hasAttributes(Events.SERVER_8080_HISTOGRAM)
                                .hasBucketBoundaries(
                                    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                    0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
                                    14400, 43200, 86400)
                                .hasBucketCounts(
                                    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 1)));
  }

  @Test
  void clientIpv6MetricsUseTheRemoteServerPortAndNoPid() {
    openAndClose(Events.clientIpv6());

    Attributes client =
        Attributes.builder()
            .put(TelemetryNames.SERVER_PORT, 6379L)
            .put(TelemetryNames.CONNECTION_SIDE, "client")
            .put(TelemetryNames.NETWORK_TYPE, "ipv6")
            .put(TelemetryNames.CONNECTION_INTERNAL, false)
            .build();
    assertThat(metric("wmscope.connection.opened"))
        .hasLongSumSatisfying(
            sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(client)));
    assertThat(metric("wmscope.connection.duration"))
        .hasHistogramSatisfying(
            h ->
                h.hasPointsSatisfying(
                    p -> p.hasCount(1).hasSum(1_234_567 / 1e9).hasAttributes(client)));
  }

  @Test
  void internalAndExternalTrafficAreSeparateSeriesNeverSummed() {
    // Same port, pid and worker; only the internal flag differs.
    telemetry.closed(Events.server(50001, 1_000L, 100, 1_000));
    telemetry.closed(Events.server(50002, 1_000L, 200, 2_000));
    telemetry.closed(Events.internal(Events.server(50003, 1_000L, 30, 300)));

    Attributes internal =
        SERVER_8080.toBuilder().put(TelemetryNames.CONNECTION_INTERNAL, true).build();
    assertThat(metric("wmscope.connection.closed"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(2).hasAttributes(SERVER_8080),
                    p -> p.hasValue(1).hasAttributes(internal)));
    assertThat(metric("wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(300).hasAttributes(withDirection(SERVER_8080, "receive")),
                    p -> p.hasValue(3_000).hasAttributes(withDirection(SERVER_8080, "transmit")),
                    p -> p.hasValue(30).hasAttributes(withDirection(internal, "receive")),
                    p -> p.hasValue(300).hasAttributes(withDirection(internal, "transmit"))));
  }

  @Test
  void workerLearnedAfterThePidWasFirstSeenReachesTheMetrics() {
    // Discovery can name the worker only after its first connections: the cached attribute set
    // built without a worker must not be served for events that now carry one.
    ConnectionEvent before = Events.withWorker(Events.server(50001, 1_000L, 10, 20), null);
    ConnectionEvent after = Events.server(50002, 1_000L, 1, 2);
    openAndClose(before);
    openAndClose(after);

    Attributes anonymous =
        SERVER_8080.toBuilder().remove(TelemetryNames.WORKERMAN_WORKER_NAME).build();
    assertThat(metric("wmscope.connection.closed"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(1).hasAttributes(anonymous),
                    p -> p.hasValue(1).hasAttributes(SERVER_8080)));
    assertThat(metric("wmscope.connection.opened"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(1).hasAttributes(anonymous),
                    p -> p.hasValue(1).hasAttributes(SERVER_8080)));
    assertThat(metric("wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p -> p.hasValue(10).hasAttributes(withDirection(anonymous, "receive")),
                    p -> p.hasValue(20).hasAttributes(withDirection(anonymous, "transmit")),
                    p -> p.hasValue(1).hasAttributes(withDirection(SERVER_8080, "receive")),
                    p -> p.hasValue(2).hasAttributes(withDirection(SERVER_8080, "transmit"))));
  }

  @Test
  void metricAttributesNeverCarryPeerOrClientEndpoints() {
    // Many peers, one server: every metric must still collapse to one series per direction.
    for (int port = 40_000; port < 40_500; port++) {
      openAndClose(Events.server(port, 1_000_000L, 10, 20));
    }
    openAndClose(Events.clientIpv6());

    List<AttributeKey<?>> forbidden =
        List.of(
            TelemetryNames.NETWORK_PEER_PORT,
            TelemetryNames.NETWORK_PEER_ADDRESS,
            TelemetryNames.NETWORK_LOCAL_PORT,
            TelemetryNames.NETWORK_LOCAL_ADDRESS,
            TelemetryNames.CLIENT_PORT,
            TelemetryNames.CLIENT_ADDRESS,
            TelemetryNames.SERVER_ADDRESS);
    List<Attributes> seen = new ArrayList<>();
    for (MetricData m : collect()) {
      for (PointData p : m.getData().getPoints()) {
        seen.add(p.getAttributes());
      }
    }
    assertThat(seen)
        .isNotEmpty()
        .allSatisfy(a -> assertThat(a.asMap().keySet()).doesNotContainAnyElementsOf(forbidden));
    // opened, closed, active, duration, tcp.rtt and tcp.retransmits (at 0: no event
    // retransmitted): 2 series each (server, client); network.io: 4
    assertThat(seen).hasSize(6 * 2 + 4);
    assertThat(collect()).filteredOn(m -> m.getName().equals("wmscope.tcp.retransmits"))
        .singleElement().satisfies(m -> assertThat(m.getLongSumData().getPoints()).hasSize(2)
            .allSatisfy(p -> assertThat(p.getValue()).isZero()));
  }

  @Test
  void concurrentCallersLoseNoUpdates() throws Exception {
    int threads = 8;
    int perThread = 5_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    ConnectionEvent e = Events.server(40_000 + i, 1_000L, 1, 2);
                    telemetry.opened(Events.opening(e));
                    telemetry.closed(e);
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    long total = (long) threads * perThread;
    assertThat(metric("wmscope.connection.opened"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(p -> p.hasValue(total)));
    assertThat(metric("wmscope.connection.closed"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(p -> p.hasValue(total)));
    assertThat(metric("wmscope.connection.active"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(p -> p.hasValue(0)));
    assertThat(metric("wmscope.network.io"))
        .hasLongSumSatisfying(
            sum ->
                sum.hasPointsSatisfying(
                    p ->
                        p.hasValue(total)
                            .hasAttribute(TelemetryNames.NETWORK_IO_DIRECTION, "receive"),
                    p ->
                        p.hasValue(2 * total)
                            .hasAttribute(TelemetryNames.NETWORK_IO_DIRECTION, "transmit")));
  }
  @Test
  void aConnectionReclassifiedWhileOpenMovesItsActiveCountAndClosesInTheNewSeries() {
    ConnectionEvent client = Events.server(50001, 1_000L, 0, 0);
    ConnectionEvent link = client.withInternal(true);
    Attributes internalSeries = SERVER_8080.toBuilder().put(TelemetryNames.CONNECTION_INTERNAL, true).build();
    telemetry.opened(Events.opening(client));

    telemetry.reclassified(Events.opening(client), Events.opening(link));

    assertThat(metric("wmscope.connection.active"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(
            p -> p.hasValue(0).hasAttributes(SERVER_8080),
            p -> p.hasValue(1).hasAttributes(internalSeries)));
    telemetry.closed(link);
    assertThat(metric("wmscope.connection.active"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(
            p -> p.hasValue(0).hasAttributes(SERVER_8080),
            p -> p.hasValue(0).hasAttributes(internalSeries)));
    // counters never go back: the open stays where it was counted, the close counts in the new series
    assertThat(metric("wmscope.connection.opened"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(
            p -> p.hasValue(1).hasAttributes(SERVER_8080),
            p -> p.hasValue(0).hasAttributes(internalSeries)));
    assertThat(metric("wmscope.connection.closed"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(p -> p.hasValue(1).hasAttributes(internalSeries)));
  }
}
