package dev.wmscope.agent.api;

import dev.wmscope.agent.probe.LiveState;
import java.util.List;
import java.util.Map;

/**
 * What the HTTP API and the CLI views read from a running agent. Implementations return
 * immutable snapshots and are safe to call from any thread.
 */
public interface StatusSource {
  /** The live view (open connections, listeners, workers, rolling stats). */
  LiveState.View view();

  /** Why the agent is not ready yet; empty when it is (programs attached, first discovery done). */
  List<String> notReady();

  /** Failed export batches so far by {@code signal/exporter} (e.g. {@code traces/otlp}). */
  Map<String, Long> exportFailures();

  /** Spans lost in failed batches so far, all exporters. */
  long spansDropped();

  /** How often live counters are read from the kernel, in milliseconds. */
  long pollIntervalMillis();

  /**
   * Whether every Workerman worker found on the host is watched (no --port/--pid/--cgroup
   * selection), so idle workers are listed too; otherwise only processes with traffic or a
   * watched listening socket are.
   */
  default boolean watchesAllWorkers() {
    return true;
  }
}
