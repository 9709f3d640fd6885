package dev.wmscope.agent;

import dev.wmscope.agent.selection.Selection;
import dev.wmscope.loader.ConnectionProbe;
import java.time.Duration;

/**
 * Everything `wmscope run` was asked to do, after flags are parsed and checked.
 *
 * @param probe             where to attach and how large the kernel maps are
 * @param selection         what to watch (nothing given: every Workerman app on the host)
 * @param output            what to write on standard output per closed connection
 * @param discoveryInterval how often /proc is rescanned for apps, reloads and listeners
 */
public record AgentConfig(ConnectionProbe.Options probe, Selection selection, Output output, Duration discoveryInterval) {

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
}
