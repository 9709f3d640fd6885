package dev.wmscope.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.api.trace.SpanKind;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ExportHealthTest {
  private final Logger logger = Logger.getLogger(ExportHealth.class.getName());
  private final List<LogRecord> logged = Collections.synchronizedList(new ArrayList<>());
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      logged.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void capture() {
    logger.addHandler(capture);
  }

  @AfterEach
  void release() {
    logger.removeHandler(capture);
  }

  /** An exporter whose receiver is up or down, answering at once. */
  private static final class Switchable implements SpanExporter {
    final AtomicBoolean up = new AtomicBoolean(true);
    int delivered;

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      if (up.get()) {
        delivered += spans.size();
        return CompletableResultCode.ofSuccess();
      }
      return CompletableResultCode.ofExceptionalFailure(new ConnectException("Connection refused"));
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  /** An exporter whose results the test completes, in any order. */
  private static final class Pending implements SpanExporter {
    final List<CompletableResultCode> results = new ArrayList<>();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      CompletableResultCode r = new CompletableResultCode();
      results.add(r);
      return r;
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  @Test
  void aBatchOfTheOutageFailingAfterANewerSuccessIsCountedNotANewOutage() {
    // seen in AgentExportOutageKernelIT: a batch still in the exporter's retries when the
    // collector came back failed after a newer batch had succeeded, and logged "recovered" twice
    ExportHealth health = new ExportHealth();
    Pending real = new Pending();
    SpanExporter exporter = health.wrap(real, "otlp", "http://127.0.0.1:4318");
    exporter.export(spans(1)); // 0: fails at once
    exporter.export(spans(2)); // 1: retrying through the outage
    exporter.export(spans(3)); // 2: after the collector is back
    exporter.export(spans(4)); // 3: later
    real.results.get(0).failExceptionally(new ConnectException("Connection refused"));
    real.results.get(2).succeed();
    real.results.get(1).failExceptionally(new ConnectException("Connection refused"));
    real.results.get(3).succeed();
    assertThat(lines(Level.WARNING)).as("one outage, one warning").isEqualTo(1);
    assertThat(lines(Level.INFO)).as("one recovery").isEqualTo(1);
    assertThat(health.failures("traces", "otlp")).as("every failed batch counted").isEqualTo(2);
    assertThat(health.spansDropped()).isEqualTo(3);
  }

  @Test
  void aNewerBatchOfTheOutageFailingAfterAnOlderOneSucceededIsCountedNotANewOutage() {
    // seen in AgentExportOutageKernelIT (CI, 2026-12-02): two batches retrying through the outage,
    // the older one's retry reached the collector first; the newer one's retries ran out after it
    ExportHealth health = new ExportHealth();
    Pending real = new Pending();
    SpanExporter exporter = health.wrap(real, "otlp", "http://127.0.0.1:4318");
    exporter.export(spans(1)); // 0: fails at once
    exporter.export(spans(2)); // 1: retrying, succeeds first
    exporter.export(spans(3)); // 2: retrying, gives up after 1 succeeded
    real.results.get(0).failExceptionally(new ConnectException("Connection refused"));
    real.results.get(1).succeed();
    real.results.get(2).failExceptionally(new ConnectException("Connection refused"));
    exporter.export(spans(4)); // 3: after the collector is back
    real.results.get(3).succeed();
    assertThat(lines(Level.WARNING)).as("one outage, one warning").isEqualTo(1);
    assertThat(lines(Level.INFO)).as("one recovery").isEqualTo(1);
    assertThat(health.failures("traces", "otlp")).isEqualTo(2);
    assertThat(health.spansDropped()).isEqualTo(4);
    // a batch started after the recovery that fails is a new outage
    exporter.export(spans(1));
    real.results.get(4).failExceptionally(new ConnectException("Connection refused"));
    assertThat(lines(Level.WARNING)).isEqualTo(2);
  }

  private static List<SpanData> spans(int n) {
    List<SpanData> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(TestSpanData.builder().setName("tcp 127.0.0.1:8080").setKind(SpanKind.SERVER)
          .setStartEpochNanos(1).setEndEpochNanos(2).setHasEnded(true).setStatus(StatusData.unset()).build());
    }
    return out;
  }

  private static long sum(InMemoryMetricReader reader, String name) {
    return reader.collectAllMetrics().stream().filter(m -> m.getName().equals(name))
        .map(MetricData::getLongSumData).flatMap(d -> d.getPoints().stream())
        .mapToLong(LongPointData::getValue).sum();
  }

  private long lines(Level level) {
    return logged.stream().filter(r -> r.getLevel().equals(level)).count();
  }

  @Test
  void anOutageLogsOneWarningCountsEveryLossAndRecoveryLogsOnce() {
    ExportHealth health = new ExportHealth();
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(reader).build();
    health.registerMetrics(meters);
    Switchable real = new Switchable();
    SpanExporter exporter = health.wrap(real, "otlp", "http://127.0.0.1:4318");

    assertThat(exporter.export(spans(3)).isSuccess()).isTrue();
    real.up.set(false);
    for (int i = 0; i < 5; i++) {
      assertThat(exporter.export(spans(4)).isSuccess()).isFalse();
    }
    assertThat(lines(Level.WARNING)).isEqualTo(1);
    assertThat(logged.getFirst().getMessage()).startsWith("export {0} to {1} ({2}): {3}.");
    assertThat(logged.getFirst().getParameters()).containsExactly("traces", "http://127.0.0.1:4318", "otlp",
        "failed (ConnectException: Connection refused)", "wmscope.export.failures", " and wmscope.export.spans.dropped");
    assertThat(sum(reader, "wmscope.export.failures")).isEqualTo(5);
    assertThat(sum(reader, "wmscope.export.spans.dropped")).isEqualTo(20);
    assertThat(health.failures("traces", "otlp")).isEqualTo(5);

    real.up.set(true);
    assertThat(exporter.export(spans(2)).isSuccess()).isTrue();
    assertThat(exporter.export(spans(2)).isSuccess()).isTrue();
    assertThat(lines(Level.INFO)).isEqualTo(1);
    assertThat(logged.getLast().getParameters()).containsExactly("traces", "http://127.0.0.1:4318", "otlp", 5L,
        "batches", " (20 spans dropped)");
    assertThat(real.delivered).isEqualTo(7);

    // a second outage warns again, once
    real.up.set(false);
    exporter.export(spans(1));
    exporter.export(spans(1));
    assertThat(lines(Level.WARNING)).isEqualTo(2);
    assertThat(sum(reader, "wmscope.export.spans.dropped")).isEqualTo(22);
    assertThat(reader.collectAllMetrics().stream().filter(m -> m.getName().equals("wmscope.export.failures"))
        .flatMap(m -> m.getLongSumData().getPoints().stream()).map(LongPointData::getAttributes))
        .containsExactly(Attributes.of(ExportNames.EXPORT_SIGNAL, "traces", ExportNames.EXPORT_EXPORTER, "otlp"));
  }

  @Test
  void failuresDuringShutdownAreNotWarnedAbout() {
    ExportHealth health = new ExportHealth();
    Switchable real = new Switchable();
    SpanExporter exporter = health.wrap(real, "otlp", "http://127.0.0.1:4318");
    exporter.shutdown();
    real.up.set(false);
    exporter.export(spans(1));
    assertThat(logged).isEmpty();
    assertThat(health.failures("traces", "otlp")).isEqualTo(1);
  }

  @Test
  void theSdkPerBatchFailureLinesAreFilteredOthersKept() {
    assertThat(ExportHealth.keepRecord(new LogRecord(Level.SEVERE,
        "Failed to export 4 spans. The request could not be executed. Error message: Connection refused"))).isFalse();
    assertThat(ExportHealth.keepRecord(new LogRecord(Level.WARNING,
        "Failed to export metrics. Server responded with HTTP status code 503. Error message: x"))).isFalse();
    assertThat(ExportHealth.keepRecord(new LogRecord(Level.WARNING, "Exporter failed"))).isFalse();
    assertThat(ExportHealth.keepRecord(new LogRecord(Level.WARNING, "Unrecognized something"))).isTrue();
    assertThat(ExportHealth.keepRecord(new LogRecord(Level.FINE, "Failed to export 1 spans."))).isTrue();
  }

  @Test
  void causesAreShort() {
    assertThat(ExportHealth.describe(null)).isEqualTo("export failed");
    assertThat(ExportHealth.describe(new RuntimeException("outer", new ConnectException())))
        .isEqualTo("failed (ConnectException: outer)");
  }
}
