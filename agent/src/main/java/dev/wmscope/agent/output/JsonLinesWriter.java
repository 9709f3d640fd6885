package dev.wmscope.agent.output;

import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.ConnectionTelemetry;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.time.Instant;

/**
 * One JSON object per closed connection on standard output, with exactly the span attribute
 * keys plus {@code start_time} and {@code end_time} (RFC 3339, nanosecond precision). Pipeable
 * to jq; logs go to standard error so this stream stays machine-readable.
 */
public final class JsonLinesWriter implements ConnectionListener {
  private final PrintStream out;

  public JsonLinesWriter(PrintStream out) {
    this.out = out;
  }

  @Override
  public void opened(ConnectionEvent event) {
    // one line per connection, written when its totals are final
  }

  @Override
  public void closed(ConnectionEvent event) {
    out.println(toJson(event).encode());
  }

  @Override
  public void endOfBatch() {
    out.flush();
  }

  public static JsonObject toJson(ConnectionEvent event) {
    JsonObject json = new JsonObject();
    ConnectionTelemetry.spanAttributes(event).forEach((key, value) -> json.put(key.getKey(), value));
    json.put("start_time", rfc3339(event.startEpochNanos()));
    json.put("end_time", rfc3339(event.endEpochNanos()));
    return json;
  }

  static String rfc3339(long epochNanos) {
    return Instant.ofEpochSecond(0, epochNanos).toString();
  }
}
