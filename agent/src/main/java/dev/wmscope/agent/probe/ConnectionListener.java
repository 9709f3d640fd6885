package dev.wmscope.agent.probe;

import dev.wmscope.otel.ConnectionEvent;

/**
 * Receives connection events on the probe's poll thread, in kernel order. Implementations must
 * not block for long: the ring buffer fills while they run.
 */
public interface ConnectionListener {
  void opened(ConnectionEvent event);

  void closed(ConnectionEvent event);

  /** Called after each poll slice that delivered events, e.g. to flush buffered output. */
  default void endOfBatch() {}

  /**
   * Called after every poll slice, events or not: every record the kernel wrote before
   * {@code monoNanos} (CLOCK_MONOTONIC, the kernel's clock) has been delivered.
   */
  default void deliveredThrough(long monoNanos) {}
}
