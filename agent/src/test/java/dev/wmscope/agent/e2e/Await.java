package dev.wmscope.agent.e2e;

import java.time.Duration;
import java.util.function.Supplier;

/** Bounded polling for end-to-end tests: every wait has a deadline and says what it waited for. */
final class Await {
  private Await() {}

  /**
   * Polls {@code probe} every 100 ms until it returns {@code expected}; fails with the last
   * value seen after {@code timeout}.
   */
  static <T> T until(Duration timeout, String what, Supplier<T> probe, T expected) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = null;
    RuntimeException error = null;
    while (System.nanoTime() < deadline) {
      try {
        last = probe.get();
        error = null;
      } catch (RuntimeException e) {
        last = null; // not ready yet (e.g. the server is still starting)
        error = e;
      }
      if (expected.equals(last)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what + ": expected " + expected + ", last seen " + last + " after " + timeout
        + (error == null ? "" : " (last error: " + error + ")"), error);
  }
}
