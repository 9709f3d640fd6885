package dev.wmscope.bench;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wmscope.loader.BpfMap;
import dev.wmscope.loader.BpfObject;
import dev.wmscope.loader.ConnEventLayout;
import dev.wmscope.loader.RingBufferReader;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ring-buffer read path against a real BPF ring buffer: RingBufferReader.poll reading the
 * mapped ring in Java and calling the handler once per record (until 2026-12-06 it was libbpf's
 * ring_buffer__poll with an FFM upcall per record).
 *
 * <p>Real connection churn cannot feed records fast enough on this machine to find the
 * path's limit, so a tp_btf/sys_enter program (src/main/bpf/ringbuf_feeder.bpf.c) writes
 * {@value #BATCH} real-layout close records into the ring when this thread calls getppid().
 * The fill runs before each invocation, outside the timed part; the timed part drains the
 * batch. Handler "count" only touches the record (the read path alone); "decode" also decodes it
 * with ConnEventLayout.decode (what ConnectionProbe does). Score: records (events) per second.
 *
 * <p>Needs root (loads and attaches a tracing program) and a kernel with BTF; the program is
 * detached and freed at tear-down.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RingBufferBenchmark {
  static final int BATCH = 4096;

  @Param({"count", "decode"})
  public String handler;

  private BpfObject object;
  private RingBufferReader reader;
  private MethodHandle getppid;
  private int got;
  private long sink;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    byte[] elf;
    try (InputStream in = RingBufferBenchmark.class.getResourceAsStream("ringbuf_feeder.bpf.o")) {
      if (in == null) {
        throw new IllegalStateException("ringbuf_feeder.bpf.o not on the class path: build with bench/jmh.sh");
      }
      elf = in.readAllBytes();
    }
    object = BpfObject.open("ringbuf_feeder", elf);
    object.load();
    object.program("bench_rbfeeder").attach();
    BpfMap config = object.map("feeder_config");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = arena.allocate(16, 8);
      value.set(JAVA_INT, 0, (int) ProcessHandle.current().pid());
      value.set(JAVA_INT, 4, BATCH);
      value.set(JAVA_LONG, 8, getppidSyscallNumber());
      config.update(arena.allocateFrom(JAVA_INT, 0), value, BpfMap.BPF_ANY);
    }
    Consumer<MemorySegment> h = handler.equals("decode")
        ? s -> {
            sink += ConnEventLayout.decode(s).cookie();
            got++;
          }
        : s -> {
            sink += s.get(JAVA_LONG, 8);
            got++;
          };
    reader = new RingBufferReader(object.map("events"), h);
    Linker linker = Linker.nativeLinker();
    getppid = linker.downcallHandle(linker.defaultLookup().find("getppid").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT));
  }

  private static long getppidSyscallNumber() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> 110;
      case "aarch64" -> 173;
      default -> throw new IllegalStateException("getppid syscall number unknown for " + System.getProperty("os.arch"));
    };
  }

  /** Fills the ring with one batch (untimed). */
  @Setup(Level.Invocation)
  public void fill() throws Throwable {
    got = 0;
    int unused = (int) getppid.invokeExact();
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long drain() {
    for (int spins = 0; got < BATCH; spins++) {
      if (spins > 1000) {
        throw new IllegalStateException("ring buffer delivered " + got + " of " + BATCH + " records");
      }
      reader.poll(0);
    }
    return sink;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    long drops = object.map("feeder_drops").sumPerCpuU64(0);
    reader.close();
    object.close();
    System.out.printf("%nringbuffer(%s): feeder reservations that failed: %d%n", handler, drops);
  }
}
