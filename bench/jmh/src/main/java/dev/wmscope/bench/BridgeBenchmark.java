package dev.wmscope.bench;

import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.ConnectionTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The OpenTelemetry bridge: ConnectionTelemetry.opened + closed for one connection (its span
 * with every attribute, the opened/closed/active counters, the duration and RTT histograms, byte
 * counters) into a real SDK: BatchSpanProcessor with a no-op exporter, PeriodicMetricReader.
 * One invocation is one connection = two kernel events (open, close); the score is events/s.
 * The batch processor's export thread runs beside the benchmark thread (the agent has one too);
 * spans it could not queue are dropped by the SDK, as in the agent: the tear-down prints how
 * many were exported.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BridgeBenchmark {
  private final Fixtures.Counters counters = new Fixtures.Counters();
  private OpenTelemetrySdk sdk;
  private ConnectionTelemetry telemetry;
  private ConnectionEvent[] opens;
  private ConnectionEvent[] closes;
  private int next;
  private long connections;

  @Setup(Level.Trial)
  public void setUp() {
    sdk = Fixtures.sdk(counters);
    telemetry = new ConnectionTelemetry(sdk);
    opens = new ConnectionEvent[Fixtures.CONNECTIONS];
    closes = new ConnectionEvent[Fixtures.CONNECTIONS];
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      for (int i = 0; i < Fixtures.CONNECTIONS; i++) {
        opens[i] = Fixtures.toEvent(dev.wmscope.loader.ConnEventLayout.decode(Fixtures.record(arena, i, false)));
        closes[i] = Fixtures.toEvent(dev.wmscope.loader.ConnEventLayout.decode(Fixtures.record(arena, i, true)));
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    sdk.close();
    System.out.printf("%nbridge: connections=%d spans_exported=%d (%.1f%%) metric_exports=%d%n", connections,
        counters.spansExported.get(), 100.0 * counters.spansExported.get() / Math.max(1, connections),
        counters.metricExports.get());
  }

  @Benchmark
  @OperationsPerInvocation(2)
  public void openedAndClosed() {
    int i = next++ & (Fixtures.CONNECTIONS - 1);
    telemetry.opened(opens[i]);
    telemetry.closed(closes[i]);
    connections++;
  }
}
