package dev.wmscope.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.WorkerIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reload bookkeeping as Workerman does it: one worker at a time, replacements after exits. */
class ReloadTrackerTest {
  private static final long MS = 1_000_000L;
  private static final long MASTER = 10;

  private static Map<Long, WorkerIdentity> workers(Object... pidAndName) {
    Map<Long, WorkerIdentity> m = new LinkedHashMap<>();
    for (int i = 0; i < pidAndName.length; i += 2) {
      m.put(((Number) pidAndName[i]).longValue(), new WorkerIdentity((String) pidAndName[i + 1],
          "text://127.0.0.1:1", MASTER, "/app/start.php", "worker"));
    }
    return m;
  }

  @Test
  void oneAtATimeReplacementsArePairedAndTheReloadEndsWithTheLastStart() {
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "SIGUSR1 from pid 9 (php)", false, 0, workers(11, "Echo", 12, "Echo"));
    t.exited(MASTER, 11, "reload", 100 * MS);
    t.started(MASTER, 21, "Echo", 110 * MS);
    assertThat(t.finished(120 * MS)).isEmpty();
    t.exited(MASTER, 12, "stop_timeout", 2_200 * MS);
    t.started(MASTER, 22, "Echo", 2_210 * MS);
    var r = t.finished(2_300 * MS);
    assertThat(r).singleElement().satisfies(x -> {
      assertThat(x.replaced()).extracting(p -> p.oldPid() + ">" + p.newPid() + " " + p.cause())
          .containsExactly("11>21 reload", "12>22 stop_timeout");
      assertThat(x.durationNanos()).isEqualTo(2_210 * MS);
      assertThat(x.kept()).isEmpty();
      assertThat(x.gapNanos()).containsEntry("Echo", 0L); // the other Echo kept running
      assertThat(x.complete()).isTrue();
    });
    assertThat(t.reloading(MASTER)).isFalse();
  }

  @Test
  void exitsAndStartsFedOutOfOrderCountTheGapInTimeOrder() {
    // the kernel's exits of one tick come before the discovery tick's starts, though the first
    // replacement started before the second exit: the other Echo always ran
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Echo", 12, "Echo"));
    t.exited(MASTER, 11, "reload", 100 * MS);
    t.exited(MASTER, 12, "reload", 200 * MS);
    t.started(MASTER, 21, "Echo", 150 * MS);
    t.started(MASTER, 22, "Echo", 250 * MS);
    assertThat(t.finished(300 * MS)).singleElement()
        .satisfies(x -> assertThat(x.gapNanos()).containsExactly(Map.entry("Echo", 0L)));
  }

  @Test
  void aSingleWorkerLeavesItsListenerWithoutAWorkerUntilItsReplacementStarts() {
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Api"));
    t.exited(MASTER, 11, "reload", 50 * MS);
    t.started(MASTER, 21, "Api", 80 * MS);
    assertThat(t.finished(90 * MS)).singleElement()
        .satisfies(x -> assertThat(x.gapNanos()).containsExactly(Map.entry("Api", 30 * MS)));
  }

  @Test
  void workersThatAreNotReloadableAreKeptAndTheReloadEndsWhenQuiet() {
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Echo", 12, "Register"));
    t.exited(MASTER, 11, "reload", 50 * MS);
    t.started(MASTER, 21, "Echo", 60 * MS);
    assertThat(t.finished(60 * MS + ReloadTracker.QUIET_NANOS - 1)).isEmpty();
    assertThat(t.finished(60 * MS + ReloadTracker.QUIET_NANOS)).singleElement().satisfies(x -> {
      assertThat(x.kept()).containsExactly(12L);
      assertThat(x.replaced()).hasSize(1);
    });
  }

  @Test
  void aSecondSignalDuringAReloadIsIgnoredAndOtherMastersAreApart() {
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Echo"));
    t.begin(MASTER, "/app/start.php", "y", true, 5 * MS, workers(11, "Echo", 99, "Echo"));
    t.exited(77, 11, "reload", 10 * MS); // another master's worker with the same pid cannot be ours
    t.started(MASTER, 11, "Echo", 11 * MS); // an old pid never counts as a replacement
    assertThat(t.finished(20 * MS)).isEmpty();
    t.exited(MASTER, 11, "reload", 30 * MS);
    t.started(MASTER, 31, "Echo", 40 * MS);
    assertThat(t.finished(50 * MS)).singleElement().satisfies(x -> {
      assertThat(x.askedBy()).isEqualTo("x");
      assertThat(x.oldPids()).containsExactly(11L);
    });
  }
}
