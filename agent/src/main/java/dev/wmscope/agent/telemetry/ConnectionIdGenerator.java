package dev.wmscope.agent.telemetry;

import dev.wmscope.otel.ConnectionSpanIds;
import io.opentelemetry.sdk.trace.IdGenerator;

/**
 * The SDK's random ids, except for a connection span, whose ids the bridge derived from the
 * connection ({@link ConnectionSpanIds}) so that the request spans made while it was open link
 * to it.
 */
final class ConnectionIdGenerator implements IdGenerator {
  private static final IdGenerator RANDOM = IdGenerator.random();

  @Override
  public String generateSpanId() {
    String preset = ConnectionSpanIds.takeSpanId();
    return preset != null ? preset : RANDOM.generateSpanId();
  }

  @Override
  public String generateTraceId() {
    String preset = ConnectionSpanIds.takeTraceId();
    return preset != null ? preset : RANDOM.generateTraceId();
  }
}
