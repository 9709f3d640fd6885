package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker health programs on the real kernel, against PHP processes whose behaviour the test
 * sets: waiting in stream_select (the Select event loop), blocked in usleep, spinning on the CPU,
 * busy stretches of a known length, exiting with a code, killed by this JVM, and signalled the
 * way Workerman's status command does.
 */
@KernelTest
class WorkerHealthKernelIT {
  private static final int SIGKILL = 9;
  private static final int SIGIOT = 6;
  private static final int SIGIO = 29;
  private final List<HealthEvent> events = new CopyOnWriteArrayList<>();
  private final List<Process> children = new CopyOnWriteArrayList<>();
  private WorkerHealthProbe probe;

  @BeforeEach
  void start() {
    probe = WorkerHealthProbe.start(KernelFeature.disabledByEnvironment(), events::add).orElseThrow();
    assertThat(probe.features().values()).allMatch(FeatureStatus::ok);
  }

  @AfterEach
  void stop() {
    children.forEach(Process::destroyForcibly);
    probe.close();
  }

  /**
   * A php -r child, watched before its code runs: it waits for a line on stdin first, sent once
   * it is watched (stdin stays open: it is the select target).
   */
  private Process php(String code) throws Exception {
    Process p = new ProcessBuilder("php", "-r", "fgets(STDIN);" + code).redirectErrorStream(true).start();
    children.add(p);
    assertThat(probe.watch(p.pid(), 0)).isTrue();
    p.getOutputStream().write('\n');
    p.getOutputStream().flush();
    return p;
  }

  private LoopState awaitState(long pid, Predicate<LoopState> done, long timeoutMillis) throws Exception {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    Optional<LoopState> s = Optional.empty();
    while (System.nanoTime() < end) {
      s = probe.read(pid);
      if (s.isPresent() && done.test(s.get())) {
        return s.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("state of " + pid + " never matched; last: " + s);
  }

  @Test
  void selectIsTheWaitUsleepIsBlockedAndASpinIsOnCpu() throws Exception {
    // waits in stream_select on stdin (nothing comes) for 400 ms, then usleeps 600 ms, then
    // spins 600 ms, then waits again
    Process p = php("$r=[STDIN];$w=$e=null;stream_select($r,$w,$e,0,400000);usleep(600000);"
        + "$t=microtime(true);while(microtime(true)-$t<0.6);$r=[STDIN];stream_select($r,$w,$e,5);");
    LoopState waiting = awaitState(p.pid(), s -> s.state() == LoopState.State.WAITING, 2000);
    assertThat(waiting.asleepInSyscall()).isFalse();
    LoopState blocked = awaitState(p.pid(), LoopState::asleepInSyscall, 2000);
    assertThat(blocked.state()).isEqualTo(LoopState.State.BUSY);
    assertThat(blocked.sleepSyscall()).isIn(35, 230); // nanosleep or clock_nanosleep
    assertThat(blocked.waitNanos()).isBetween(300_000_000L, 1_500_000_000L); // the 400 ms select
    LoopState spinning = awaitState(p.pid(), s -> !s.asleepInSyscall() && s.state() == LoopState.State.BUSY
        && s.switchedInNanos() != 0 && s.onCpuNanos() + (MonotonicClock.monotonicNow() - s.switchedInNanos())
            > 200_000_000L, 3000);
    assertThat(spinning.sinceNanos()).isLessThan(spinning.switchedInNanos() + 1); // one stretch since the select
    LoopState back = awaitState(p.pid(), s -> s.state() == LoopState.State.WAITING && s.stretches() >= 1, 3000);
    // one stretch of usleep 600 + spin 600 ms: bucket (1 s, 2.5 s]
    assertThat(back.buckets()[10]).isEqualTo(1);
    assertThat(back.busyNanos()).isBetween(1_150_000_000L, 2_500_000_000L);
  }

  @Test
  void busyStretchesLandInTheirBuckets() throws Exception {
    // five rounds: wait 50 ms in select, then 30 ms on the CPU (bucket 5: (25 ms, 50 ms])
    // then says "done" and waits 5 s more
    Process p = php("for($i=0;$i<5;$i++){$r=[STDIN];$w=$e=null;stream_select($r,$w,$e,0,50000);"
        + "$t=microtime(true);while(microtime(true)-$t<0.03);}echo \"done\\n\";$r=[STDIN];stream_select($r,$w,$e,5);");
    var done = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    assertThat(done.get(5, TimeUnit.SECONDS)).isEqualTo("done");
    LoopState s = awaitState(p.pid(), x -> x.state() == LoopState.State.WAITING, 2000);
    // a first stretch, from the go line to the first select, comes before the five
    String buckets = java.util.Arrays.toString(s.buckets());
    assertThat(s.stretches()).as(buckets).isBetween(5L, 6L);
    assertThat(s.buckets()[5]).as(buckets).isGreaterThanOrEqualTo(5);
    assertThat(java.util.Arrays.stream(s.buckets(), 0, 7).sum()).as("none beyond 100 ms: %s", buckets)
        .isEqualTo(s.stretches());
    // finished waits: the five 50 ms selects (four when the watch began inside the first)
    assertThat(s.waitNanos()).isBetween(190_000_000L, 600_000_000L);
  }

  @Test
  void exitCodeAndKillAreReportedWithTheSender() throws Exception {
    Process exits = php("usleep(200000); exit(3);");
    Process killed = php("$r=[STDIN];$w=$e=null;stream_select($r,$w,$e,10);");
    awaitState(killed.pid(), s -> s.state() == LoopState.State.WAITING, 2000);
    killed.destroyForcibly(); // SIGKILL from this JVM
    assertThat(exits.waitFor(5, TimeUnit.SECONDS)).isTrue();
    assertThat(killed.waitFor(5, TimeUnit.SECONDS)).isTrue();
    HealthEvent exit3 = awaitEvent(e -> e.type() == HealthEvent.Type.EXIT && e.pid() == exits.pid());
    assertThat(exit3.killedBySignal()).isFalse();
    assertThat(exit3.exitCode()).isEqualTo(3);
    assertThat(exit3.signal()).isZero();
    HealthEvent kill = awaitEvent(e -> e.type() == HealthEvent.Type.EXIT && e.pid() == killed.pid());
    assertThat(kill.killedBySignal()).isTrue();
    assertThat(kill.terminatingSignal()).isEqualTo(SIGKILL);
    assertThat(kill.signal()).isEqualTo(SIGKILL);
    assertThat(kill.sender()).isEqualTo(ProcessHandle.current().pid());
    assertThat(events).filteredOn(e -> e.type() == HealthEvent.Type.SIGNAL && e.pid() == killed.pid())
        .singleElement().satisfies(e -> {
          assertThat(e.signal()).isEqualTo(SIGKILL);
          assertThat(e.sender()).isEqualTo(ProcessHandle.current().pid());
          assertThat(e.code()).isZero(); // SI_USER: kill(2)
        });
  }

  @Test
  void handledStatusSignalsAreSignalsNotExits() throws Exception {
    Process p = php("pcntl_async_signals(true);pcntl_signal(SIGIOT,function(){});pcntl_signal(SIGIO,function(){});"
        + "$r=[STDIN];$w=$e=null;for($i=0;$i<40;$i++){$r=[STDIN];@stream_select($r,$w,$e,0,50000);}");
    awaitState(p.pid(), s -> s.state() == LoopState.State.WAITING, 2000);
    Thread.sleep(200); // the handlers are installed before the first select
    kill(p.pid(), "IOT");
    kill(p.pid(), "IO");
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    HealthEvent exit = awaitEvent(e -> e.type() == HealthEvent.Type.EXIT && e.pid() == p.pid());
    assertThat(exit.killedBySignal()).isFalse();
    assertThat(exit.exitCode()).isZero();
    assertThat(events).filteredOn(e -> e.type() == HealthEvent.Type.SIGNAL && e.pid() == p.pid())
        .extracting(HealthEvent::signal).containsExactly(SIGIOT, SIGIO);
  }

  @Test
  void aWatchedMastersForksAreReportedAndItsChildrenWatchedFromTheirFork() throws Exception {
    Process p = new ProcessBuilder("php", "-r", "usleep(300000); $c = pcntl_fork(); if ($c === 0) { exit(5); }"
        + " echo $c, \"\\n\"; pcntl_wait($s);").start();
    children.add(p);
    assertThat(probe.watch(p.pid(), LoopState.FLAG_SIGNALS_ONLY)).isTrue();
    String child = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
    assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
    HealthEvent fork = awaitEvent(e -> e.type() == HealthEvent.Type.FORK);
    assertThat(fork.sender()).isEqualTo(p.pid());
    assertThat(fork.pid()).isEqualTo(Long.parseLong(child));
    // the child is watched from its fork: its exit is reported though nobody watched it by pid
    HealthEvent exit = awaitEvent(e -> e.type() == HealthEvent.Type.EXIT && e.pid() == Long.parseLong(child));
    assertThat(exit.exitCode()).isEqualTo(5);
    assertThat(exit.killedBySignal()).isFalse();
  }

  /**
   * The OOM killer's choice: a PHP process in a memory cgroup of 64 MiB allocates until the
   * kernel kills it. mark_victim marks it, and its exit says SIGKILL from the kernel, OOM.
   */
  @Test
  void anOomKillIsMarked() throws Exception {
    Path v1 = Path.of("/sys/fs/cgroup/memory");
    Path v2 = dev.wmscope.loader.CgroupV2.findMount().orElse(null);
    boolean v2Memory = v2 != null && Files.readString(v2.resolve("cgroup.controllers")).contains("memory");
    Path parent = Files.isDirectory(v1) && Files.exists(v1.resolve("cgroup.procs")) ? v1 : v2Memory ? v2 : null;
    org.junit.jupiter.api.Assumptions.assumeTrue(parent != null, "no memory cgroup controller on this host");
    Path cg = parent.resolve("wmscope-oom-test-" + ProcessHandle.current().pid());
    Files.createDirectories(cg);
    try {
      Files.writeString(cg.resolve(parent == v1 ? "memory.limit_in_bytes" : "memory.max"), String.valueOf(64 << 20));
      if (parent == v1 && Files.exists(cg.resolve("memory.memsw.limit_in_bytes"))) {
        Files.writeString(cg.resolve("memory.memsw.limit_in_bytes"), String.valueOf(64 << 20)); // no swap either
      } else if (parent != v1 && Files.exists(cg.resolve("memory.swap.max"))) {
        Files.writeString(cg.resolve("memory.swap.max"), "0");
      }
      // waits for its own line on stdin (sent once it is in the cgroup and watched), then allocates
      Process p = new ProcessBuilder("php", "-d", "memory_limit=-1", "-r",
          "fgets(STDIN); $a = []; while (true) { $a[] = str_repeat('x', 1 << 20); }").start();
      children.add(p);
      Files.writeString(cg.resolve("cgroup.procs"), Long.toString(p.pid()));
      assertThat(probe.watch(p.pid(), 0)).isTrue();
      p.getOutputStream().write('\n');
      p.getOutputStream().flush();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("killed by the OOM killer").isTrue();
      HealthEvent exit = awaitEvent(e -> e.type() == HealthEvent.Type.EXIT && e.pid() == p.pid());
      assertThat(exit.oomChosen()).isTrue();
      assertThat(exit.killedBySignal()).isTrue();
      assertThat(exit.terminatingSignal()).isEqualTo(SIGKILL);
      assertThat(exit.sender()).as("the kernel").isZero();
      assertThat(events).anyMatch(e -> e.type() == HealthEvent.Type.OOM && e.pid() == p.pid());
    } finally {
      for (int i = 0; i < 50 && Files.exists(cg); i++) {
        try {
          Files.delete(cg);
        } catch (java.io.IOException e) {
          Thread.sleep(100); // the killed process leaves the cgroup a moment after its exit
        }
      }
    }
  }

  @Test
  void unwatchedProcessesLeaveNoTrace() throws Exception {
    Process p = new ProcessBuilder("php", "-r", "usleep(100000); exit(4);").start();
    children.add(p);
    assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(100);
    probe.consume();
    assertThat(events).noneMatch(e -> e.pid() == p.pid());
    assertThat(probe.watch(p.pid(), 0)).as("an exited process cannot be watched").isFalse();
  }

  private static void kill(long pid, String sig) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor()).isZero();
  }

  private HealthEvent awaitEvent(Predicate<HealthEvent> p) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < end) {
      probe.consume();
      Optional<HealthEvent> e = events.stream().filter(p).findFirst();
      if (e.isPresent()) {
        return e.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no such event; got " + events);
  }
}
