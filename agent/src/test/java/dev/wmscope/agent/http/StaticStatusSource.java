package dev.wmscope.agent.http;

import dev.wmscope.agent.api.StatusSource;
import java.util.Map;

/** The parts of a test agent that the HTTP tests do not vary: no export failures, a 1 s poll. */
abstract class StaticStatusSource implements StatusSource {
  @Override
  public Map<String, Long> exportFailures() {
    return Map.of();
  }

  @Override
  public long spansDropped() {
    return 0;
  }

  @Override
  public long pollIntervalMillis() {
    return 1000;
  }
}
