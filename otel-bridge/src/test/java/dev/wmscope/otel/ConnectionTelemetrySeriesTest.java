package dev.wmscope.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.ConnectionEvent.Side;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Workerman reloads replace every worker pid: the counter series of exited workers must go after
 * the retention time, or each reload adds series for the life of the agent.
 */
class ConnectionTelemetrySeriesTest {

  private static final long SECOND = 1_000_000_000L;
  private static final Duration RETENTION = Duration.ofSeconds(30);
  private static final WorkerIdentity WEB =
      new WorkerIdentity("Web", "http://0.0.0.0:8787", 100, "/srv/app/start.php", "worker");

  private final TestSdk otel = new TestSdk();
  private final Set<Long> alive = new HashSet<>();
  private final ConnectionTelemetry telemetry = new ConnectionTelemetry(otel.sdk, RETENTION, alive::contains);

  @AfterEach
  void shutdown() {
    otel.close();
  }

  private static ConnectionEvent served(long pid, int peerPort) {
    return new ConnectionEvent(Side.SERVER, false, "10.0.0.5", 8787, "192.0.2.9", peerPort,
        Events.START, Events.START + 1_000_000L, 100, 200, 2, 2, 80, 0, pid, "php", WEB, false);
  }

  private static void openAndClose(ConnectionTelemetry t, ConnectionEvent e) {
    t.opened(Events.opening(e));
    t.closed(e);
  }

  /** The pids of every point of {@code metric} in one collection. */
  private Set<Long> pids(List<MetricData> metrics, String metric) {
    return metrics.stream().filter(m -> m.getName().equals(metric))
        .flatMap(m -> m.getData().getPoints().stream())
        .map(PointData::getAttributes)
        .map(a -> a.get(TelemetryNames.PROCESS_PID))
        .collect(Collectors.toSet());
  }

  private long points(List<MetricData> metrics) {
    return metrics.stream().mapToLong(m -> m.getData().getPoints().size()).sum();
  }

  @Test
  void aHundredReloadsLeaveTheSeriesOfTheLiveWorkersAndThoseWithinTheRetention() {
    long now = 0;
    long pid = 1000;
    long firstGenerationPoints = -1;
    for (int reload = 0; reload < 100; reload++) {
      alive.clear();
      for (int w = 0; w < 4; w++) {
        alive.add(++pid);
        for (int c = 0; c < 3; c++) {
          openAndClose(telemetry, served(pid, 40_000 + c));
        }
      }
      now += 60 * SECOND; // a reload a minute: twice the retention
      telemetry.expireSeries(now);
      now += 31 * SECOND;
      telemetry.expireSeries(now);
      List<MetricData> metrics = List.copyOf(otel.reader.collectAllMetrics());
      assertThat(pids(metrics, "wmscope.connection.opened")).as("reload %d", reload).isEqualTo(alive);
      assertThat(pids(metrics, "wmscope.connection.closed")).isEqualTo(alive);
      assertThat(pids(metrics, "wmscope.network.io")).isEqualTo(alive);
      assertThat(pids(metrics, "wmscope.tcp.retransmits")).isEqualTo(alive);
      assertThat(pids(metrics, "wmscope.connection.duration")).as("histograms carry no pid").containsOnlyNulls();
      if (firstGenerationPoints < 0) {
        firstGenerationPoints = points(metrics);
      }
      assertThat(points(metrics)).as("exported points after reload %d", reload).isEqualTo(firstGenerationPoints);
    }
    assertThat(telemetry.seriesCount()).isEqualTo(4);
  }

  @Test
  void anExitedWorkersFinalCountsStayExportedForTheRetentionTime() {
    alive.add(7L);
    openAndClose(telemetry, served(7, 40_000));
    openAndClose(telemetry, served(7, 40_001));
    alive.clear(); // the worker exits
    telemetry.expireSeries(0);
    telemetry.expireSeries(29 * SECOND);
    assertThat(telemetry.seriesCount()).isEqualTo(1);
    MetricData opened = otel.reader.collectAllMetrics().stream()
        .filter(m -> m.getName().equals("wmscope.connection.opened")).findFirst().orElseThrow();
    assertThat(opened.getLongSumData().getPoints()).singleElement()
        .satisfies(p -> assertThat(p.getValue()).isEqualTo(2));

    telemetry.expireSeries(30 * SECOND);
    assertThat(telemetry.seriesCount()).isZero();
    assertThat(otel.reader.collectAllMetrics())
        .noneMatch(m -> m.getName().equals("wmscope.connection.opened") && !m.getData().getPoints().isEmpty());
  }

  @Test
  void aSeriesWithAnOpenConnectionOrALiveProcessStays() {
    alive.add(8L);
    openAndClose(telemetry, served(8, 40_000)); // pid 8 lives on, idle
    telemetry.opened(Events.opening(served(9, 40_001))); // pid 9 is gone with a connection still open
    for (long t = 0; t <= 600; t += 10) {
      telemetry.expireSeries(t * SECOND);
    }
    assertThat(telemetry.seriesCount()).isEqualTo(2);

    telemetry.closed(served(9, 40_001)); // its close record arrives: now it may go
    telemetry.expireSeries(601 * SECOND);
    telemetry.expireSeries(640 * SECOND);
    assertThat(telemetry.seriesCount()).isEqualTo(1);
  }

  @Test
  void aSeriesThatComesBackBeforeTheRetentionEndsKeepsCounting() {
    openAndClose(telemetry, served(5, 40_000));
    telemetry.expireSeries(0); // pid 5 not alive: retention starts
    alive.add(5L); // seen alive again (e.g. /proc was briefly unreadable): the clock resets
    telemetry.expireSeries(20 * SECOND);
    alive.clear();
    telemetry.expireSeries(40 * SECOND);
    telemetry.expireSeries(60 * SECOND);
    assertThat(telemetry.seriesCount()).isEqualTo(1);
    openAndClose(telemetry, served(5, 40_001));
    MetricData opened = otel.reader.collectAllMetrics().stream()
        .filter(m -> m.getName().equals("wmscope.connection.opened")).findFirst().orElseThrow();
    assertThat(opened.getLongSumData().getPoints()).singleElement()
        .satisfies(p -> assertThat(p.getValue()).isEqualTo(2));
  }

  @Test
  void expiryLooksAtMostOnceASecond() {
    openAndClose(telemetry, served(6, 40_000));
    telemetry.expireSeries(0); // starts pid 6's retention
    assertThat(telemetry.expireSeries(RETENTION.toNanos())).isEqualTo(1);
    openAndClose(telemetry, served(6, 40_001));
    telemetry.expireSeries(RETENTION.toNanos() + SECOND / 2); // within the second: not looked at
    telemetry.expireSeries(RETENTION.toNanos() + SECOND);
    assertThat(telemetry.expireSeries(2 * RETENTION.toNanos() + 2 * SECOND)).isEqualTo(1);
  }

  @Test
  void withoutALivenessSourceNothingExpires() {
    ConnectionTelemetry forever = new ConnectionTelemetry(otel.sdk);
    openAndClose(forever, served(11, 40_000));
    for (long t = 0; t <= 3600; t += 60) {
      forever.expireSeries(t * SECOND);
    }
    assertThat(forever.seriesCount()).isEqualTo(1);
  }
}
