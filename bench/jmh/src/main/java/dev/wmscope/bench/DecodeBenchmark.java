package dev.wmscope.bench;

import dev.wmscope.loader.ConnEventLayout;
import dev.wmscope.loader.ConnRecord;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * ConnEventLayout.decode: one kernel record (136 bytes off-heap, as the ring buffer hands it to
 * the upcall) to a ConnRecord. Score: records (events) per second on one thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DecodeBenchmark {
  private Arena arena;
  private MemorySegment[] records;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    arena = Arena.ofShared();
    records = new MemorySegment[Fixtures.CONNECTIONS];
    for (int i = 0; i < records.length; i++) {
      records[i] = Fixtures.record(arena, i, true);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public ConnRecord decode() {
    return ConnEventLayout.decode(records[next++ & (Fixtures.CONNECTIONS - 1)]);
  }
}
