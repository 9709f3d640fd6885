package dev.wmscope.bench;

import dev.wmscope.loader.ConnEventLayout;
import dev.wmscope.otel.ConnectionTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * Decode + map + bridge, the per-event work of the agent's poll thread for a connection: decode
 * its open record, map it (the agent's RecordMapper), ConnectionTelemetry.opened;
 * the same for its close record and closed. Two events per invocation; the score is events/s.
 * Not included: the agent's per-connection bookkeeping (LiveState) and the JSON/console writers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PipelineBenchmark {
  private final Fixtures.Counters counters = new Fixtures.Counters();
  private OpenTelemetrySdk sdk;
  private ConnectionTelemetry telemetry;
  private Arena arena;
  private MemorySegment[] opens;
  private MemorySegment[] closes;
  private int next;
  private long connections;

  @Setup(Level.Trial)
  public void setUp() {
    sdk = Fixtures.sdk(counters);
    telemetry = new ConnectionTelemetry(sdk);
    arena = Arena.ofShared();
    opens = new MemorySegment[Fixtures.CONNECTIONS];
    closes = new MemorySegment[Fixtures.CONNECTIONS];
    for (int i = 0; i < Fixtures.CONNECTIONS; i++) {
      opens[i] = Fixtures.record(arena, i, false);
      closes[i] = Fixtures.record(arena, i, true);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    sdk.close();
    arena.close();
    System.out.printf("%npipeline: connections=%d spans_exported=%d (%.1f%%)%n", connections,
        counters.spansExported.get(), 100.0 * counters.spansExported.get() / Math.max(1, connections));
  }

  @Benchmark
  @OperationsPerInvocation(2)
  public void decodeMapBridge() {
    int i = next++ & (Fixtures.CONNECTIONS - 1);
    telemetry.opened(Fixtures.toEvent(ConnEventLayout.decode(opens[i])));
    telemetry.closed(Fixtures.toEvent(ConnEventLayout.decode(closes[i])));
    connections++;
  }
}
