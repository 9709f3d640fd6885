package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

/**
 * {@link BpfProgram#missedRuns()} against runs the kernel really skipped: bpf/test/
 * self_recursion.bpf.c makes a program fire on top of itself exactly once per getppid() of this
 * process (the kernel skips that nested run and counts it), so the count is known exactly. This
 * is what the agent exports as {@code wmscope.probe.skipped_runs}.
 */
@KernelTest
class MissedRunsKernelIT {
  private static final int CALLS = 25;

  @Test
  void everySkippedRunIsCountedExactly() throws Throwable {
    Linker linker = Linker.nativeLinker();
    MethodHandle getppid = linker.downcallHandle(linker.defaultLookup().find("getppid").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT));
    try (BpfObject object = BpfObject.openResource(MissedRunsKernelIT.class, "self_recursion.bpf.o")) {
      object.load();
      BpfProgram nested = object.program("wmr_nested");
      assertThat(nested.missedRuns()).isZero();
      object.program("wmr_nested").attach();
      object.program("wmr_trigger").attach();
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment config = arena.allocate(16, 8);
        config.set(JAVA_INT, 0, (int) ProcessHandle.current().pid());
        config.set(JAVA_LONG, 8, getppidSyscallNumber());
        object.map("trigger_config").update(arena.allocateFrom(JAVA_INT, 0), config, BpfMap.BPF_ANY);
      }
      for (int i = 0; i < CALLS; i++) {
        int unused = (int) getppid.invokeExact();
      }
      assertThat(nested.missedRuns()).isEqualTo(CALLS);
      assertThat(object.program("wmr_trigger").missedRuns()).isZero();
    }
    // gone once closed (a detached tracing program goes after an RCU grace period)
    assertThat(dev.wmscope.loader.testing.KernelTestExtension.awaitEmpty(() -> BpfSystem.programs().stream()
        .map(BpfSystem.LoadedProgram::name).filter(n -> n.startsWith("wmr_")).toList())).isEmpty();
  }

  private static long getppidSyscallNumber() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> 110;
      case "aarch64" -> 173;
      default -> throw new IllegalStateException("getppid syscall number unknown for " + System.getProperty("os.arch"));
    };
  }
}
