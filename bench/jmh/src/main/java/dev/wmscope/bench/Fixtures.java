package dev.wmscope.bench;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.wmscope.loader.ConnEventLayout;
import dev.wmscope.loader.ConnEventType;
import dev.wmscope.agent.probe.RecordMapper;
import dev.wmscope.agent.selection.InternalTraffic;
import dev.wmscope.agent.selection.LocalAddresses;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.loader.ConnSide;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.WorkerIdentity;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;

/** Realistic inputs and an SDK wired like the agent's, shared by the benchmarks. */
final class Fixtures {
  private Fixtures() {}

  /** Distinct connections per benchmark state (peer ports vary; a power of two). */
  static final int CONNECTIONS = 1024;
  /** Worker pids the connections are spread over (metric attribute sets, as with 4 workers). */
  static final int WORKERS = 4;

  private static long off(String field) {
    return ConnEventLayout.LAYOUT.byteOffset(groupElement(field));
  }

  /**
   * One kernel record as the ring buffer holds it: connection i, accepted on 127.0.0.1:2347
   * from 127.0.0.2, attributed to one of the workers, closed by the peer (close) or just
   * established (open).
   */
  static MemorySegment record(Arena arena, int i, boolean close) {
    MemorySegment s = arena.allocate(ConnEventLayout.LAYOUT);
    s.set(JAVA_INT, off("type"), close ? 2 : 1);
    s.set(JAVA_SHORT, off("family"), (short) 2);
    s.set(JAVA_BYTE, off("side"), (byte) 0);
    s.set(JAVA_BYTE, off("flags"), (byte) (close ? 2 | 64 : 2));
    s.set(JAVA_LONG, off("cookie"), 1_000_000L + i);
    s.set(JAVA_LONG, off("start_ns"), 5_000_000_000L + i * 1000L);
    s.set(JAVA_LONG, off("end_ns"), close ? 5_000_850_000L + i * 1000L : 0);
    s.set(JAVA_BYTE, off("local_addr"), (byte) 127);
    s.set(JAVA_BYTE, off("local_addr") + 3, (byte) 1);
    s.set(JAVA_BYTE, off("remote_addr"), (byte) 127);
    s.set(JAVA_BYTE, off("remote_addr") + 3, (byte) 2);
    s.set(JAVA_SHORT, off("local_port"), (short) 2347);
    s.set(JAVA_SHORT, off("remote_port"), (short) (40000 + i));
    s.set(JAVA_INT, off("pid"), pid(i));
    if (close) {
      s.set(JAVA_LONG, off("bytes_received"), 27);
      s.set(JAVA_LONG, off("bytes_acked"), 27);
      s.set(JAVA_INT, off("data_segs_in"), 1);
      s.set(JAVA_INT, off("data_segs_out"), 1);
      s.set(JAVA_INT, off("srtt_us"), 24);
      s.set(JAVA_INT, off("prev_state"), 9); // LAST_ACK
    }
    s.asSlice(off("comm"), 3).copyFrom(MemorySegment.ofArray("php".getBytes()));
    return s;
  }

  static int pid(int i) {
    return 4242 + (i % WORKERS);
  }

  static final WorkerIdentity[] WORKER_IDS = new WorkerIdentity[WORKERS];

  static {
    for (int w = 0; w < WORKERS; w++) {
      WORKER_IDS[w] = new WorkerIdentity("ChatWorker", "websocket://0.0.0.0:2347", 4241, "/srv/chat/start.php", "worker");
    }
  }

  /**
   * The agent's own record-to-event step ({@link RecordMapper}), with the Workerman identities of
   * the fixture's workers and the internal-traffic table of a host whose only local address is
   * loopback (the fixture's peers are external).
   */
  static final RecordMapper MAPPER = new RecordMapper(new MonotonicClock(),
      new ProcessDirectory(pid -> Optional.of(WORKER_IDS[(int) (pid % WORKERS)])),
      new InternalTraffic(new LocalAddresses()));

  static ConnectionEvent toEvent(ConnRecord r) {
    return MAPPER.toEvent(r);
  }

  /** Counts what reaches the exporters (nothing is sent anywhere). */
  static final class Counters {
    final AtomicLong spansExported = new AtomicLong();
    final AtomicLong metricExports = new AtomicLong();
  }

  /**
   * An SDK as the agent builds it, minus the network: a BatchSpanProcessor with its default
   * queue (2048) and batch (512) feeding a no-op exporter, and a PeriodicMetricReader (1 s, more
   * often than the agent's 60 s default) feeding a no-op exporter.
   */
  static OpenTelemetrySdk sdk(Counters counters) {
    SpanExporter spans = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> batch) {
        counters.spansExported.addAndGet(batch.size());
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    MetricExporter metrics = new MetricExporter() {
      @Override
      public CompletableResultCode export(Collection<MetricData> batch) {
        counters.metricExports.incrementAndGet();
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public AggregationTemporality getAggregationTemporality(InstrumentType type) {
        return AggregationTemporality.CUMULATIVE;
      }
    };
    return OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder()
            .addSpanProcessor(BatchSpanProcessor.builder(spans).build())
            .build())
        .setMeterProvider(SdkMeterProvider.builder()
            .registerMetricReader(PeriodicMetricReader.builder(metrics).setInterval(Duration.ofSeconds(1)).build())
            .build())
        .build();
  }
}
