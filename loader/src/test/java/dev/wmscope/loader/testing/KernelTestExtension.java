package dev.wmscope.loader.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.BpfSystem;
import dev.wmscope.loader.CgroupV2;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * Gate and leak check for kernel tests. Before all: skip (or fail when WMSCOPE_REQUIRE_KERNEL=1)
 * unless this process is root on a kernel with BTF and a cgroup v2 mount and libbpf loads.
 * After each: no program named wmscope_* that this JVM or its children could have leaked is
 * loaded (see {@link #awaitNoWmscopePrograms()}), and this process holds no more BPF file
 * descriptors than before.
 */
public final class KernelTestExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback {
  public static final String REQUIRE_ENV = "WMSCOPE_REQUIRE_KERNEL";
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(KernelTestExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    List<String> missing = missingRequirements();
    if (missing.isEmpty()) {
      return;
    }
    String reason = "kernel test needs " + String.join(", ", missing);
    if ("1".equals(System.getenv(REQUIRE_ENV))) {
      throw new AssertionError(reason + " (" + REQUIRE_ENV + "=1 forbids skipping)");
    }
    throw new TestAbortedException(reason);
  }

  /** What this host lacks for kernel tests, empty when they can run. */
  public static List<String> missingRequirements() {
    List<String> missing = new ArrayList<>();
    try {
      if (BpfSystem.effectiveUid() != 0) {
        missing.add("root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)");
      }
    } catch (RuntimeException | LinkageError e) {
      missing.add("libbpf.so.1 (" + e.getMessage() + ")");
      return missing;
    }
    if (!Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))) {
      missing.add("kernel BTF at /sys/kernel/btf/vmlinux");
    }
    if (CgroupV2.findMount().isEmpty()) {
      missing.add("a cgroup v2 mount");
    }
    return missing;
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NS).put("fds", bpfFds());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    long fdsBefore = context.getStore(NS).get("fds", Long.class);
    assertThat(awaitNoWmscopePrograms()).as("wmscope programs still loaded after the test").isEmpty();
    assertThat(bpfFds()).as("BPF file descriptors this process holds after the test").isLessThanOrEqualTo(fdsBefore);
  }

  /**
   * wmscope programs still loaded that this test run could have leaked, after waiting up to
   * 5 s for them to go (the kernel frees a detached tracing program only after an RCU grace
   * period). A program whose only holders are live processes outside this JVM and its children
   * (another agent running on the machine) is not ours and is ignored; one held by us, or by
   * nobody (pinned, or an orphaned link), is a leak.
   */
  public static List<BpfSystem.LoadedProgram> awaitNoWmscopePrograms() {
    return awaitEmpty(() -> ours(BpfSystem.wmscopePrograms()));
  }

  /**
   * What {@code left} still finds after waiting up to 5 s for it to find nothing (the kernel
   * frees a detached tracing program only after an RCU grace period).
   */
  public static <T> List<T> awaitEmpty(java.util.function.Supplier<List<T>> left) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    List<T> now = left.get();
    while (!now.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      now = left.get();
    }
    return now;
  }

  private static List<BpfSystem.LoadedProgram> ours(List<BpfSystem.LoadedProgram> programs) {
    if (programs.isEmpty()) {
      return programs;
    }
    java.util.Set<Long> family = new java.util.HashSet<>();
    family.add(ProcessHandle.current().pid());
    ProcessHandle.current().descendants().forEach(p -> family.add(p.pid()));
    java.util.Map<Integer, java.util.Set<Long>> holders = programHolders();
    return programs.stream().filter(p -> {
      java.util.Set<Long> h = holders.getOrDefault(p.id(), java.util.Set.of());
      return h.isEmpty() || h.stream().anyMatch(family::contains);
    }).toList();
  }

  /** prog id -> pids holding an fd of it or of a link to it (from /proc/PID/fdinfo). */
  private static java.util.Map<Integer, java.util.Set<Long>> programHolders() {
    java.util.Map<Integer, java.util.Set<Long>> out = new java.util.HashMap<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(proc -> {
        long pid = Long.parseLong(proc.getFileName().toString());
        try (Stream<Path> infos = Files.list(proc.resolve("fdinfo"))) {
          infos.forEach(info -> {
            try {
              for (String line : Files.readAllLines(info)) {
                if (line.startsWith("prog_id:")) {
                  out.computeIfAbsent(Integer.parseInt(line.substring(8).trim()), k -> new java.util.HashSet<>()).add(pid);
                }
              }
            } catch (IOException | RuntimeException e) {
              // fd closed meanwhile
            }
          });
        } catch (IOException e) {
          // process gone
        }
      });
    } catch (IOException e) {
      throw new IllegalStateException("list /proc", e);
    }
    return out;
  }

  /** File descriptors of this process that refer to BPF objects (anon_inode:bpf-map etc.). */
  public static long bpfFds() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().startsWith("anon_inode:bpf");
        } catch (IOException e) {
          return false; // closed meanwhile
        }
      }).count();
    } catch (IOException e) {
      throw new IllegalStateException("list /proc/self/fd", e);
    }
  }
}
