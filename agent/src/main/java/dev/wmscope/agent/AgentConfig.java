package dev.wmscope.agent;

import dev.wmscope.agent.selection.Selection;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.otel.ConnectionTelemetry;
import java.time.Duration;

/**
 * Everything `wmscope run` was asked to do, after flags are parsed and checked.
 *
 * @param probe             where to attach and how large the kernel maps are
 * @param selection         what to watch (nothing given: every Workerman app on the host)
 * @param output            what to write on standard output per closed connection
 * @param discoveryInterval how often /proc is rescanned for apps, reloads and listeners
 * @param pollInterval      how often live counters and accept queues are read from the kernel
 * @param stallThreshold    how long unread bytes may sit undrained before a worker is stalled
 * @param seriesRetention   how long the metric series of a process that exited stay exported
 * @param requests          how HTTP requests are reported (the capture budget is in {@code probe})
 * @param blockedThreshold  how long a worker may stay away from its event wait before it is blocked
 */
public record AgentConfig(ConnectionProbe.Options probe, Selection selection, Output output, Duration discoveryInterval,
    Duration pollInterval, Duration stallThreshold, Duration seriesRetention, Requests requests,
    Duration blockedThreshold) {

  public AgentConfig(ConnectionProbe.Options probe, Selection selection, Output output, Duration discoveryInterval,
      Duration pollInterval, Duration stallThreshold, Duration seriesRetention, Requests requests) {
    this(probe, selection, output, discoveryInterval, pollInterval, stallThreshold, seriesRetention, requests,
        DEFAULT_BLOCKED_THRESHOLD);
  }

  /**
   * Request telemetry options.
   *
   * @param routes           route templates (--http-route): the only source of http.route
   * @param captureQuery     spans carry url.query
   * @param captureUserAgent spans carry user_agent.original
   */
  public record Requests(dev.wmscope.otel.HttpRoutes routes, boolean captureQuery, boolean captureUserAgent) {
    public static final Requests DEFAULT = new Requests(dev.wmscope.otel.HttpRoutes.NONE, false, false);
  }

  public AgentConfig(ConnectionProbe.Options probe, Selection selection, Output output, Duration discoveryInterval,
      Duration pollInterval, Duration stallThreshold, Duration seriesRetention) {
    this(probe, selection, output, discoveryInterval, pollInterval, stallThreshold, seriesRetention, Requests.DEFAULT);
  }

  /** Standard output format. */
  public enum Output {
    /** Nothing on standard output (telemetry goes to exporters only). */
    NONE,
    /** A readable line per closed connection. */
    TEXT,
    /** A JSON object per closed connection. */
    JSON
  }

  public static final Duration DEFAULT_DISCOVERY_INTERVAL = Duration.ofSeconds(1);
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
  public static final Duration DEFAULT_STALL_THRESHOLD = Duration.ofSeconds(2);
  public static final Duration DEFAULT_BLOCKED_THRESHOLD = Duration.ofSeconds(1);
  public static final Duration DEFAULT_SERIES_RETENTION = ConnectionTelemetry.DEFAULT_SERIES_RETENTION;

  /** The same configuration with other output (the demo prints text). */
  public AgentConfig withOutput(Output o) {
    return new AgentConfig(probe, selection, o, discoveryInterval, pollInterval, stallThreshold, seriesRetention,
        requests, blockedThreshold);
  }
}
