package dev.wmscope.agent;

import dev.wmscope.loader.ConnectionProbe;
import java.util.Set;

/**
 * Everything `wmscope run` was asked to do, after flags are parsed and checked.
 *
 * @param probe    where to attach and how large the kernel maps are
 * @param ports    local ports whose accepted connections are watched
 * @param pids     processes whose outbound connections are watched
 * @param output   what to write on standard output per closed connection
 */
public record AgentConfig(ConnectionProbe.Options probe, Set<Integer> ports, Set<Integer> pids, Output output) {

  /** Standard output format. */
  public enum Output {
    /** Nothing on standard output (telemetry goes to exporters only). */
    NONE,
    /** A readable line per closed connection. */
    TEXT,
    /** A JSON object per closed connection. */
    JSON
  }

  public AgentConfig {
    ports = Set.copyOf(ports);
    pids = Set.copyOf(pids);
  }
}
