package dev.wmscope.otel;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.tuple;

import dev.wmscope.otel.HostTelemetry.ListenerGauge;
import dev.wmscope.otel.HostTelemetry.ShareGauge;
import dev.wmscope.otel.HostTelemetry.WorkerGauge;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HostTelemetryTest {

  /** A business worker of the same app as {@link Events#GATEWAY}, without a listener. */
  private static final WorkerIdentity BUSINESS =
      new WorkerIdentity(
          "ChatBusinessWorker", "none", 4000, "/srv/chat/start.php", "business_worker");

  /** A view whose lists the test replaces between collections, as the agent does. */
  private static final class FakeView implements HostTelemetry.View {
    volatile List<ListenerGauge> listeners = List.of();
    volatile List<WorkerGauge> workers = List.of();
    volatile List<ShareGauge> shares = List.of();

    @Override
    public List<ListenerGauge> listeners() {
      return listeners;
    }

    @Override
    public List<WorkerGauge> workers() {
      return workers;
    }

    @Override
    public List<ShareGauge> shares() {
      return shares;
    }
  }

  private final FakeView view = new FakeView();
  private final TestSdk otel = new TestSdk();
  private final InMemoryMetricReader reader = otel.reader;
  private final HostTelemetry telemetry = new HostTelemetry(otel.sdk, view);

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

  private static Attributes attributes(long port, long pid, String workerName) {
    return Attributes.builder()
        .put(TelemetryNames.SERVER_PORT, port)
        .put(TelemetryNames.PROCESS_PID, pid)
        .put(TelemetryNames.WORKERMAN_WORKER_NAME, workerName)
        .build();
  }

  private static Attributes worker(long pid, String workerName) {
    return Attributes.builder()
        .put(TelemetryNames.PROCESS_PID, pid)
        .put(TelemetryNames.WORKERMAN_WORKER_NAME, workerName)
        .build();
  }

  /** A ChatGateway process's share of port 8080. */
  private static Attributes share(long pid, String kind) {
    return attributes(8080, pid, "ChatGateway").toBuilder()
        .put(TelemetryNames.SHARE_KIND, kind)
        .build();
  }

  @Test
  void everyInstrumentHasItsNameUnitDescriptionAndScope() {
    view.listeners = List.of(new ListenerGauge(8080, 4000, Events.GATEWAY, 1, 511));
    view.workers = List.of(new WorkerGauge(4242, Events.GATEWAY, false, 0));
    view.shares = List.of(new ShareGauge(8080, 4242, Events.GATEWAY, 1.0, 1.0));
    telemetry.listenOverflows(8080, 1);
    telemetry.dropped("ringbuf_full", 1);

    List<MetricData> metrics = collect();
    // Names and units are the public contract, so they are spelled out here.
    assertThat(metrics)
        .extracting(MetricData::getName, MetricData::getUnit, MetricData::getDescription)
        .containsExactlyInAnyOrder(
            tuple(
                "wmscope.listen.queue.length",
                "{connection}",
                TelemetryNames.LISTEN_QUEUE_LENGTH_DESCRIPTION),
            tuple(
                "wmscope.listen.queue.limit",
                "{connection}",
                TelemetryNames.LISTEN_QUEUE_LIMIT_DESCRIPTION),
            tuple("wmscope.worker.stalled", "1", TelemetryNames.WORKER_STALLED_DESCRIPTION),
            tuple("wmscope.worker.queued", "By", TelemetryNames.WORKER_QUEUED_DESCRIPTION),
            tuple("wmscope.worker.share", "1", TelemetryNames.WORKER_SHARE_DESCRIPTION),
            tuple(
                "wmscope.listen.overflows",
                "{connection}",
                TelemetryNames.LISTEN_OVERFLOWS_DESCRIPTION),
            tuple("wmscope.events.dropped", "{event}", TelemetryNames.EVENTS_DROPPED_DESCRIPTION));
    assertThat(metrics)
        .extracting(MetricData::getDescription)
        .allSatisfy(d -> assertThat(d).isNotBlank().doesNotContain("\n"));
    assertThat(metrics)
        .allSatisfy(
            m -> {
              assertThat(m.getInstrumentationScopeInfo().getName()).isEqualTo("dev.wmscope");
              assertThat(m.getInstrumentationScopeInfo().getSchemaUrl())
                  .isEqualTo(TelemetryNames.SCHEMA_URL);
            });
  }

  @Test
  void listenerGaugesCarryPortPidAndWorkerAndOmitWhatIsUnknown() {
    view.listeners =
        List.of(
            // A Workerman listener held by the master (shared by its children).
            new ListenerGauge(8080, 4000, Events.GATEWAY, 12, 511),
            // A listener of an unknown owner: no pid, no worker.
            new ListenerGauge(9000, 0, null, 0, 128));

    List<MetricData> metrics = collect();
    Attributes gateway = attributes(8080, 4000, "ChatGateway");
    Attributes anonymous = Attributes.of(TelemetryNames.SERVER_PORT, 9000L);
    assertThat(metric(metrics, "wmscope.listen.queue.length"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(12).hasAttributes(gateway),
                    p -> p.hasValue(0).hasAttributes(anonymous)));
    assertThat(metric(metrics, "wmscope.listen.queue.limit"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(511).hasAttributes(gateway),
                    p -> p.hasValue(128).hasAttributes(anonymous)));
  }

  @Test
  void workerGaugesCarryPidAndWorkerName() {
    view.workers =
        List.of(
            new WorkerGauge(4242, Events.GATEWAY, true, 65_536),
            new WorkerGauge(4243, BUSINESS, false, 0),
            new WorkerGauge(0, null, false, 7));

    List<MetricData> metrics = collect();
    assertThat(metric(metrics, "wmscope.worker.stalled"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(1).hasAttributes(worker(4242, "ChatGateway")),
                    p -> p.hasValue(0).hasAttributes(worker(4243, "ChatBusinessWorker")),
                    p -> p.hasValue(0).hasAttributes(Attributes.empty())));
    assertThat(metric(metrics, "wmscope.worker.queued"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(65_536).hasAttributes(worker(4242, "ChatGateway")),
                    p -> p.hasValue(0).hasAttributes(worker(4243, "ChatBusinessWorker")),
                    p -> p.hasValue(7).hasAttributes(Attributes.empty())));
  }

  @Test
  void shareGaugeReportsAcceptedAndActiveAsTwoPointsPerWorker() {
    view.shares =
        List.of(
            new ShareGauge(8080, 4242, Events.GATEWAY, 0.75, 0.5),
            new ShareGauge(8080, 4244, Events.GATEWAY, 0.25, 0.5));

    assertThat(metric(collect(), "wmscope.worker.share"))
        .hasDoubleGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(0.75).hasAttributes(share(4242, "accepted")),
                    p -> p.hasValue(0.5).hasAttributes(share(4242, "active")),
                    p -> p.hasValue(0.25).hasAttributes(share(4244, "accepted")),
                    p -> p.hasValue(0.5).hasAttributes(share(4244, "active"))));
  }

  @Test
  void viewChangesAreReflectedOnTheNextCollection() {
    view.listeners = List.of(new ListenerGauge(8080, 4000, Events.GATEWAY, 12, 511));
    view.workers = List.of(new WorkerGauge(4242, Events.GATEWAY, true, 65_536));
    view.shares = List.of(new ShareGauge(8080, 4242, Events.GATEWAY, 1.0, 1.0));
    assertThat(metric(collect(), "wmscope.listen.queue.length"))
        .hasLongGaugeSatisfying(g -> g.hasPointsSatisfying(p -> p.hasValue(12)));

    // The gateway drained its queue and a listener on 9000 appeared; a second worker took half.
    view.listeners =
        List.of(
            new ListenerGauge(8080, 4000, Events.GATEWAY, 0, 511),
            new ListenerGauge(9000, 4001, BUSINESS, 3, 128));
    view.workers = List.of(new WorkerGauge(4242, Events.GATEWAY, false, 0));
    view.shares =
        List.of(
            new ShareGauge(8080, 4242, Events.GATEWAY, 0.5, 0.5),
            new ShareGauge(8080, 4244, Events.GATEWAY, 0.5, 0.5));

    List<MetricData> metrics = collect();
    Attributes business9000 = attributes(9000, 4001, "ChatBusinessWorker");
    assertThat(metric(metrics, "wmscope.listen.queue.length"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(0).hasAttributes(attributes(8080, 4000, "ChatGateway")),
                    p -> p.hasValue(3).hasAttributes(business9000)));
    assertThat(metric(metrics, "wmscope.worker.stalled"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(0).hasAttributes(worker(4242, "ChatGateway"))));
    assertThat(metric(metrics, "wmscope.worker.queued"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(0).hasAttributes(worker(4242, "ChatGateway"))));
    assertThat(metric(metrics, "wmscope.worker.share"))
        .hasDoubleGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(0.5).hasAttributes(share(4242, "accepted")),
                    p -> p.hasValue(0.5).hasAttributes(share(4242, "active")),
                    p -> p.hasValue(0.5).hasAttributes(share(4244, "accepted")),
                    p -> p.hasValue(0.5).hasAttributes(share(4244, "active"))));

    // A listener that went away is no longer reported; an empty view reports no gauge at all.
    view.listeners = List.of(new ListenerGauge(9000, 4001, BUSINESS, 4, 128));
    assertThat(metric(collect(), "wmscope.listen.queue.limit"))
        .hasLongGaugeSatisfying(
            g ->
                g.hasPointsSatisfying(
                    p -> p.hasValue(128).hasAttributes(business9000)));
    view.listeners = List.of();
    view.workers = List.of();
    view.shares = List.of();
    assertThat(collect()).isEmpty();
  }

  @Test
  void countersSumExactlyAndIgnoreZeroAndNegativeAdds() {
    telemetry.listenOverflows(8080, 3);
    telemetry.listenOverflows(8080, 0);
    telemetry.listenOverflows(8080, -2);
    telemetry.listenOverflows(9000, 5);
    telemetry.listenOverflows(8080, 4);
    telemetry.dropped("ringbuf_full", 10);
    telemetry.dropped("ringbuf_full", 0);
    telemetry.dropped("conn_map_full", 1);
    telemetry.dropped("ringbuf_full", 2);
    telemetry.dropped("decode_error", -1);
    telemetry.dropped("decode_error", 0);

    List<MetricData> metrics = collect();
    assertThat(metric(metrics, "wmscope.listen.overflows"))
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic()
                    .isCumulative()
                    .hasPointsSatisfying(
                        p -> p.hasValue(7).hasAttributes(port(8080)),
                        p -> p.hasValue(5).hasAttributes(port(9000))));
    // decode_error got 0 and -1: a series at 0 (known reason, no loss yet); -1 is ignored
    assertThat(metric(metrics, "wmscope.events.dropped"))
        .hasLongSumSatisfying(
            sum ->
                sum.isMonotonic()
                    .isCumulative()
                    .hasPointsSatisfying(
                        p -> p.hasValue(12).hasAttributes(reason("ringbuf_full")),
                        p -> p.hasValue(1).hasAttributes(reason("conn_map_full")),
                        p -> p.hasValue(0).hasAttributes(reason("decode_error"))));
  }

  private static Attributes port(long port) {
    return Attributes.of(TelemetryNames.SERVER_PORT, port);
  }

  private static Attributes reason(String reason) {
    return Attributes.of(TelemetryNames.DROP_REASON, reason);
  }

  @Test
  void zeroAndNegativeAddsReportNoOverflowsAndADropReasonAtZero() {
    telemetry.listenOverflows(8080, 0);
    telemetry.listenOverflows(8080, -1);
    telemetry.dropped("ringbuf_full", 0);
    telemetry.dropped("ringbuf_full", -1);

    List<MetricData> metrics = collect();
    assertThat(metrics).extracting(MetricData::getName).containsExactly("wmscope.events.dropped");
    assertThat(metric(metrics, "wmscope.events.dropped"))
        .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(p -> p.hasValue(0).hasAttributes(reason("ringbuf_full"))));
  }

  @Test
  void nullViewIsRejected() {
    assertThatNullPointerException()
        .isThrownBy(() -> new HostTelemetry(otel.sdk, null))
        .withMessage("view");
  }
}
