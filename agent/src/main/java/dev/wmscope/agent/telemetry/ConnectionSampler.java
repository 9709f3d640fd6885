package dev.wmscope.agent.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * "Errors and slow always": keeps every connection span that shows trouble and defers the rest
 * to a base sampler (the configured ratio). A busy host then ships a sample of its short healthy
 * connections but every reset, timeout, retransmitting or long one.
 *
 * <p>Kept regardless of the base sampler, from the attributes the bridge sets before the span
 * starts:
 * <ul>
 *   <li>{@code wmscope.tcp.retransmits} &gt; 0;</li>
 *   <li>{@code wmscope.close.cause} one of {@code rst_sent}, {@code rst_received},
 *       {@code timeout}, {@code refused} (not the orderly {@code fin_local}/{@code fin_peer});</li>
 *   <li>any {@code error.type};</li>
 *   <li>{@code wmscope.connection.duration_ms} at least the slow threshold (unless it is 0);</li>
 *   <li>for request spans, {@code wmscope.http.duration_ms} at least 1 s (or the slow threshold
 *       when it is lower).</li>
 * </ul>
 * Connection spans have no parent, so keeping one never breaks a sampled trace.
 *
 * <p>Immutable and thread-safe.
 */
public final class ConnectionSampler implements Sampler {
  /** Default slow threshold: connections open this long are always kept. */
  public static final Duration DEFAULT_SLOW_THRESHOLD = Duration.ofSeconds(10);

  // The span attributes decided on, by their public names (the bridge's TelemetryNames and the
  // README's span reference): the sampler depends on the contract, not on the bridge's code.
  static final AttributeKey<Long> RETRANSMITS = AttributeKey.longKey("wmscope.tcp.retransmits");
  static final AttributeKey<Double> DURATION_MS = AttributeKey.doubleKey("wmscope.connection.duration_ms");
  /** A request span's duration (request telemetry). */
  static final AttributeKey<Double> HTTP_DURATION_MS = AttributeKey.doubleKey("wmscope.http.duration_ms");
  /** Requests this slow are kept (or the slow threshold, when it is set lower). */
  static final double SLOW_REQUEST_MILLIS = 1000;
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  /** How the connection ended; orderly closes are fin_local and fin_peer. */
  static final AttributeKey<String> CLOSE_CAUSE = AttributeKey.stringKey("wmscope.close.cause");

  static final Set<String> ABNORMAL_CLOSE = Set.of("rst_sent", "rst_received", "timeout", "refused");

  private final Sampler base;
  private final Duration slowThreshold;
  private final double slowMillis;

  /**
   * @param base          decides for healthy, short connections (e.g. a trace-id ratio)
   * @param slowThreshold connections at least this long are kept; zero turns the rule off
   */
  public ConnectionSampler(Sampler base, Duration slowThreshold) {
    this.base = Objects.requireNonNull(base, "base");
    if (slowThreshold.isNegative()) {
      throw new IllegalArgumentException("slow threshold " + slowThreshold + " is negative");
    }
    this.slowThreshold = slowThreshold;
    this.slowMillis = slowThreshold.isZero() ? Double.POSITIVE_INFINITY : slowThreshold.toNanos() / 1e6;
  }

  @Override
  public SamplingResult shouldSample(Context parentContext, String traceId, String name, SpanKind spanKind,
      Attributes attributes, List<LinkData> parentLinks) {
    if (alwaysKeep(attributes)) {
      return SamplingResult.recordAndSample();
    }
    return base.shouldSample(parentContext, traceId, name, spanKind, attributes, parentLinks);
  }

  /** Whether a connection with these attributes is kept whatever the ratio says. */
  boolean alwaysKeep(Attributes a) {
    Long retransmits = a.get(RETRANSMITS);
    if (retransmits != null && retransmits > 0) {
      return true;
    }
    String cause = a.get(CLOSE_CAUSE);
    if (cause != null && ABNORMAL_CLOSE.contains(cause)) {
      return true;
    }
    if (a.get(ERROR_TYPE) != null) {
      return true;
    }
    Double durationMs = a.get(DURATION_MS);
    if (durationMs != null && durationMs >= slowMillis) {
      return true;
    }
    Double requestMs = a.get(HTTP_DURATION_MS);
    return requestMs != null && requestMs >= Math.min(slowMillis, SLOW_REQUEST_MILLIS);
  }

  @Override
  public String getDescription() {
    return "WmscopeConnectionSampler{keep=errors,retransmits"
        + (slowThreshold.isZero() ? "" : ",duration>=" + slowThreshold.toMillis() + "ms")
        + ",else=" + base.getDescription() + "}";
  }

  @Override
  public String toString() {
    return getDescription();
  }
}
