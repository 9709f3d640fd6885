package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.WorkerIdentity;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** pid -> identity, with a grace period for processes that exited; time is injected. */
class ProcessDirectoryTest {
  private static final WorkerIdentity GATEWAY =
      new WorkerIdentity("ChatGateway", "websocket://0.0.0.0:8282", 1000, "/srv/chat/start.php", "gateway");
  private static final WorkerIdentity BUSINESS =
      new WorkerIdentity("ChatBusinessWorker", "none", 1000, "/srv/chat/start.php", "business_worker");
  private static final WorkerIdentity MASTER = new WorkerIdentity("", "", 1000, "/srv/chat/start.php", "master");
  private static final long SECOND = 1_000_000_000L;
  /** An arbitrary monotonic origin, as System.nanoTime() has one. */
  private static final long T0 = 7_777 * SECOND;

  private final ProcessDirectory directory = new ProcessDirectory();

  @Test
  void looksUpKnownPidsAndNothingElse() {
    directory.update(Map.of(1000L, MASTER, 1001L, GATEWAY, 1050L, BUSINESS), T0);

    assertThat(directory.lookup(1001)).isEqualTo(GATEWAY);
    assertThat(directory.lookup(1050)).isEqualTo(BUSINESS);
    assertThat(directory.lookup(1000)).isEqualTo(MASTER);
    assertThat(directory.lookup(4242)).isNull();
    assertThat(directory.live()).containsOnlyKeys(1000L, 1001L, 1050L);
  }

  @Test
  void aGonePidIsStillNamedDuringTheGracePeriodButNotLive() {
    directory.update(Map.of(1001L, GATEWAY, 1050L, BUSINESS), T0);

    directory.update(Map.of(1050L, BUSINESS), T0 + SECOND); // 1001 exited

    assertThat(directory.lookup(1001)).as("a late close of a gone worker is still named").isEqualTo(GATEWAY);
    assertThat(directory.live()).containsOnlyKeys(1050L);

    // later passes without it keep it only until the grace period has passed since it went
    directory.update(Map.of(1050L, BUSINESS), T0 + SECOND + ProcessDirectory.GRACE_NANOS - 1);
    assertThat(directory.lookup(1001)).isEqualTo(GATEWAY);
    directory.update(Map.of(1050L, BUSINESS), T0 + SECOND + ProcessDirectory.GRACE_NANOS);
    assertThat(directory.lookup(1001)).isNull();
    assertThat(directory.lookup(1050)).isEqualTo(BUSINESS);
    assertThat(directory.live()).containsOnlyKeys(1050L);
  }

  @Test
  void theGracePeriodCountsFromWhenThePidWentNotFromTheLatestPass() {
    directory.update(Map.of(1001L, GATEWAY), T0);
    directory.update(Map.of(), T0 + SECOND);
    for (long t = 2; t < 120; t += 10) {
      directory.update(Map.of(), T0 + t * SECOND); // passes every 10 s do not extend it
    }
    directory.update(Map.of(), T0 + SECOND + ProcessDirectory.GRACE_NANOS);

    assertThat(directory.lookup(1001)).isNull();
  }

  @Test
  void aPidThatComesBackIsLiveAgainWithItsNewIdentity() {
    directory.update(Map.of(1001L, GATEWAY), T0);
    directory.update(Map.of(), T0 + SECOND);
    assertThat(directory.live()).isEmpty();

    // pid reuse: a different process now has the number
    directory.update(Map.of(1001L, BUSINESS), T0 + 2 * SECOND);

    assertThat(directory.lookup(1001)).isEqualTo(BUSINESS);
    assertThat(directory.live()).containsEntry(1001L, BUSINESS);
    // and its grace period starts afresh when it goes again
    directory.update(Map.of(), T0 + 3 * SECOND);
    directory.update(Map.of(), T0 + 3 * SECOND + ProcessDirectory.GRACE_NANOS - 1);
    assertThat(directory.lookup(1001)).isEqualTo(BUSINESS);
  }

  @Test
  void anIdentityChangeIsTakenAtOnce() {
    directory.update(Map.of(1001L, GATEWAY), T0);
    WorkerIdentity renamed = new WorkerIdentity("ChatGateway", "websocket://0.0.0.0:8383", 1000, "/srv/chat/start.php", "gateway");

    directory.update(Map.of(1001L, renamed), T0 + SECOND);

    assertThat(directory.lookup(1001)).isEqualTo(renamed);
  }

  @Test
  void expiryIsSoundAcrossANegativeOrWrappingClock() {
    // System.nanoTime() may be negative; only differences matter
    long t0 = -5 * SECOND;
    directory.update(Map.of(1001L, GATEWAY), t0);
    directory.update(Map.of(), t0 + SECOND);
    directory.update(Map.of(), t0 + SECOND + ProcessDirectory.GRACE_NANOS - 1);
    assertThat(directory.lookup(1001)).isEqualTo(GATEWAY);
    directory.update(Map.of(), t0 + SECOND + ProcessDirectory.GRACE_NANOS);
    assertThat(directory.lookup(1001)).isNull();

    long near = Long.MAX_VALUE - SECOND;
    directory.update(Map.of(1002L, BUSINESS), near);
    directory.update(Map.of(), near + SECOND / 2);
    directory.update(Map.of(), near + SECOND / 2 + ProcessDirectory.GRACE_NANOS - 1); // wraps
    assertThat(directory.lookup(1002)).isEqualTo(BUSINESS);
    directory.update(Map.of(), near + SECOND / 2 + ProcessDirectory.GRACE_NANOS);
    assertThat(directory.lookup(1002)).isNull();
  }

  @Test
  void unknownPidsAreResolvedOnDemandAndMissesAreNotRetriedAtOnce() {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    WorkerIdentity fresh = new WorkerIdentity("Chat", "text://0.0.0.0:2347", 10, "/srv/chat/start.php", "worker");
    ProcessDirectory resolving = new ProcessDirectory(pid -> {
      calls.incrementAndGet();
      return pid == 42 ? java.util.Optional.of(fresh) : java.util.Optional.empty();
    });
    assertThat(resolving.lookup(42)).isEqualTo(fresh);
    assertThat(resolving.lookup(42)).isEqualTo(fresh);
    assertThat(calls).hasValue(1); // cached after the first resolution
    assertThat(resolving.live()).containsEntry(42L, fresh);

    assertThat(resolving.lookup(7)).isNull();
    assertThat(resolving.lookup(7)).isNull();
    assertThat(calls).hasValue(2); // a miss is not retried within a second
  }
}
