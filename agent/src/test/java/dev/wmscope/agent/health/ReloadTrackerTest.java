package dev.wmscope.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.WorkerIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Reload bookkeeping as Workerman does it: one worker at a time, replacements after exits; and
 * restarts: every old worker stops, then a new master of the same start file forks new ones.
 */
class ReloadTrackerTest {
  private static final long MS = 1_000_000L;
  private static final long MASTER = 10;
  private static final long NEW_MASTER = 50;
  private static final String START = "/app/start.php";

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
    t.started(MASTER, "/app/start.php", 21, "Echo", 110 * MS);
    assertThat(t.finished(120 * MS)).isEmpty();
    t.exited(MASTER, 12, "stop_timeout", 2_200 * MS);
    t.started(MASTER, "/app/start.php", 22, "Echo", 2_210 * MS);
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
    t.started(MASTER, "/app/start.php", 21, "Echo", 150 * MS);
    t.started(MASTER, "/app/start.php", 22, "Echo", 250 * MS);
    assertThat(t.finished(300 * MS)).singleElement()
        .satisfies(x -> assertThat(x.gapNanos()).containsExactly(Map.entry("Echo", 0L)));
  }

  @Test
  void aSingleWorkerLeavesItsListenerWithoutAWorkerUntilItsReplacementStarts() {
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Api"));
    t.exited(MASTER, 11, "reload", 50 * MS);
    t.started(MASTER, "/app/start.php", 21, "Api", 80 * MS);
    assertThat(t.finished(90 * MS)).singleElement()
        .satisfies(x -> assertThat(x.gapNanos()).containsExactly(Map.entry("Api", 30 * MS)));
  }

  @Test
  void aStartKnownOnlyToTheTickIsPlacedAfterTheExitItReplacesNotBeforeIt() {
    // /proc gives 10 ms steps: the replacement forked 3 ms after the exit reads 5 ms before it
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Api", 12, "Echo"));
    t.exited(MASTER, 11, "reload", 100 * MS);
    t.started(MASTER, "/app/start.php", 21, "Api", 95 * MS, 10 * MS);
    t.exited(MASTER, 12, "reload", 200 * MS);
    t.started(MASTER, "/app/start.php", 22, "Echo", 230 * MS, 10 * MS); // well after: mid-step
    assertThat(t.finished(300 * MS)).singleElement().satisfies(x -> assertThat(x.gapNanos())
        .containsEntry("Api", 2_500_000L) // the middle of [exit, end of the step): 100 to 105 ms
        .containsEntry("Echo", 35 * MS));
  }

  @Test
  void workersThatAreNotReloadableAreKeptAndTheReloadEndsWhenQuiet() {
    ReloadTracker t = new ReloadTracker();
    t.begin(MASTER, "/app/start.php", "x", false, 0, workers(11, "Echo", 12, "Register"));
    t.exited(MASTER, 11, "reload", 50 * MS);
    t.started(MASTER, "/app/start.php", 21, "Echo", 60 * MS);
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
    t.started(MASTER, "/app/start.php", 11, "Echo", 11 * MS); // an old pid never counts as a replacement
    assertThat(t.finished(20 * MS)).isEmpty();
    t.exited(MASTER, 11, "reload", 30 * MS);
    t.started(MASTER, "/app/start.php", 31, "Echo", 40 * MS);
    assertThat(t.finished(50 * MS)).singleElement().satisfies(x -> {
      assertThat(x.askedBy()).isEqualTo("x");
      assertThat(x.oldPids()).containsExactly(11L);
    });
  }

  private static ReloadTracker restarting(Map<Long, WorkerIdentity> old) {
    ReloadTracker t = new ReloadTracker();
    t.beginRestart(MASTER, START, "SIGINT from pid 50 (php)", false, 0, java.time.Instant.EPOCH, old, Set.of());
    return t;
  }

  @Test
  void aRestartPairsTheOldWorkersWithTheNewMastersAndCountsEachNamesDowntime() {
    ReloadTracker t = restarting(workers(11, "Echo", 12, "Echo", 13, "Api"));
    t.exited(MASTER, 11, "stop", 100 * MS);
    t.exited(MASTER, 12, "stop", 120 * MS);
    t.exited(MASTER, 13, "stop", 150 * MS);
    t.masterExited(MASTER, 200 * MS);
    assertThat(t.finished(250 * MS)).isEmpty();
    t.started(NEW_MASTER, START, 51, "Echo", 260 * MS);
    t.started(NEW_MASTER, START, 52, "Echo", 265 * MS);
    assertThat(t.finished(266 * MS)).as("Api has no new worker yet").isEmpty();
    t.started(NEW_MASTER, START, 53, "Api", 270 * MS);
    assertThat(t.finished(300 * MS)).singleElement().satisfies(x -> {
      assertThat(x.restart()).isTrue();
      assertThat(x.master()).isEqualTo(MASTER);
      assertThat(x.newMaster()).isEqualTo(NEW_MASTER);
      assertThat(x.replaced()).extracting(p -> p.name() + " " + p.oldPid() + ">" + p.newPid() + " " + p.cause())
          .containsExactly("Echo 11>51 stop", "Echo 12>52 stop", "Api 13>53 stop");
      assertThat(x.gapNanos()).containsExactly(Map.entry("Api", 120 * MS), Map.entry("Echo", 140 * MS));
      assertThat(x.durationNanos()).isEqualTo(270 * MS);
      assertThat(x.kept()).isEmpty();
      assertThat(x.complete()).isTrue();
    });
    assertThat(t.reloading(MASTER)).isFalse();
  }

  @Test
  void aStopWithoutANewMasterGivesNoReport() {
    ReloadTracker t = restarting(workers(11, "Echo"));
    t.exited(MASTER, 11, "stop", 100 * MS);
    t.masterExited(MASTER, 200 * MS);
    // neither another app's worker nor one of a master that ran the same start file before the stop
    t.started(77, "/other/start.php", 78, "Echo", 300 * MS);
    t.started(MASTER, START, 12, "Echo", 300 * MS);
    assertThat(t.finished(200 * MS + ReloadTracker.RESTART_WAIT_NANOS - 1)).isEmpty();
    assertThat(t.reloading(MASTER)).isTrue();
    assertThat(t.finished(200 * MS + ReloadTracker.RESTART_WAIT_NANOS)).isEmpty();
    assertThat(t.reloading(MASTER)).as("dropped: a plain stop").isFalse();

    ReloadTracker other = new ReloadTracker();
    other.beginRestart(MASTER, START, "x", false, 0, java.time.Instant.EPOCH, workers(11, "Echo"), Set.of(60L));
    other.exited(MASTER, 11, "stop", 100 * MS);
    other.started(60, START, 61, "Echo", 150 * MS); // the same start file in another container
    assertThat(other.finished(150 * MS + ReloadTracker.QUIET_NANOS)).isEmpty();
    assertThat(other.finished(ReloadTracker.GIVE_UP_NANOS)).as("never bound: no report").isEmpty();
    assertThat(other.reloading(MASTER)).isFalse();
  }

  @Test
  void aRestartFedOutOfOrderIsPairedAndTimedInTimeOrder() {
    // discovery's tick sees the new workers (in no order) before the kernel's exits are read,
    // and the old master's exit record never comes (worker_exits off)
    ReloadTracker t = restarting(workers(11, "Echo", 12, "Echo"));
    t.started(NEW_MASTER, START, 52, "Echo", 330 * MS);
    t.started(NEW_MASTER, START, 51, "Echo", 320 * MS);
    t.exited(MASTER, 12, "stop_timeout", 210 * MS);
    t.exited(MASTER, 11, "stop", 100 * MS);
    assertThat(t.finished(400 * MS)).singleElement().satisfies(x -> {
      assertThat(x.replaced()).extracting(p -> p.oldPid() + ">" + p.newPid() + " " + p.cause())
          .containsExactly("11>51 stop", "12>52 stop_timeout");
      assertThat(x.gapNanos()).containsExactly(Map.entry("Echo", 110 * MS));
      assertThat(x.durationNanos()).isEqualTo(330 * MS);
    });
  }

  @Test
  void aRestartWithFewerWorkersEndsWhenQuietAndOneGivenUpIsIncomplete() {
    ReloadTracker t = restarting(workers(11, "Echo", 12, "Echo"));
    t.exited(MASTER, 11, "stop", 100 * MS);
    t.exited(MASTER, 12, "stop", 110 * MS);
    t.started(NEW_MASTER, START, 51, "Echo", 200 * MS);
    assertThat(t.finished(200 * MS + ReloadTracker.QUIET_NANOS - 1)).isEmpty();
    assertThat(t.finished(200 * MS + ReloadTracker.QUIET_NANOS)).singleElement().satisfies(x -> {
      assertThat(x.replaced()).extracting(p -> p.oldPid() + ">" + p.newPid()).containsExactly("11>51", "12>0");
      assertThat(x.complete()).isTrue();
    });

    ReloadTracker slow = restarting(workers(11, "Echo"));
    slow.started(NEW_MASTER, START, 51, "Echo", 200 * MS);
    assertThat(slow.finished(ReloadTracker.GIVE_UP_NANOS)).singleElement().satisfies(x -> {
      assertThat(x.kept()).containsExactly(11L);
      assertThat(x.complete()).isFalse();
    });
  }
}
