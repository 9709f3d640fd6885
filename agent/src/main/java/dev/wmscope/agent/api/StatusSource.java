package dev.wmscope.agent.api;

import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
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

  /**
   * Each optional kernel feature and whether it is in use (empty before the programs are
   * loaded): what {@code /api/agent}, {@code /readyz} and the kernel_feature gauge report.
   */
  /** Each watched worker's event loop and descriptors (empty without worker health). */
  default java.util.List<dev.wmscope.agent.health.WorkerHealth.Loop> workerLoops() {
    return java.util.List.of();
  }

  /** The GatewayWorker topology, or null when it is not kept. */
  default dev.wmscope.agent.topology.TopologyWatch topology() {
    return null;
  }

  /** Recent worker starts and exits, oldest first. */
  default java.util.List<dev.wmscope.agent.health.WorkerHealth.Event> lifecycleEvents() {
    return java.util.List.of();
  }

  default Map<KernelFeature, FeatureStatus> kernelFeatures() {
    return Map.of();
  }

  /** The features not in use, in table order (degraded or missing). */
  default List<FeatureStatus> degradedFeatures() {
    return kernelFeatures().values().stream().filter(f -> !f.ok())
        .sorted(java.util.Comparator.comparing(FeatureStatus::feature)).toList();
  }

  /** Per-worker request figures and recent slow or failed requests (empty without request capture). */
  default dev.wmscope.agent.requests.RequestStats.Snapshot requestStats() {
    return dev.wmscope.agent.requests.RequestStats.Snapshot.EMPTY;
  }

  /** What request framing could and could not frame, or null without request capture. */
  default dev.wmscope.agent.requests.RequestTracker.Counters requestCounters() {
    return null;
  }

  /** The HTTP server's connection and refusal counts, or null without a server. */
  default dev.wmscope.agent.http.HttpServerVerticle.ConnectionStats httpStats() {
    return null;
  }

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
