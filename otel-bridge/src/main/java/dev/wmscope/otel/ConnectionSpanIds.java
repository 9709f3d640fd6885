package dev.wmscope.otel;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;

/**
 * The trace and span id of a connection's span, derived from what identifies the connection
 * (side, both addresses and ports, and its start time, equal in its open and close events), so
 * a request span made while the connection is open can link to the connection span that is made
 * only at its close. The bridge presets these ids for the span it is about to start on this
 * thread; an SDK whose id generator asks {@link #takeTraceId()} and {@link #takeSpanId()} first
 * (the agent's) then gives the connection span exactly these ids. With any other id generator
 * the link still names a well-formed context, just not one that exists.
 *
 * <p>Thread-safe: the preset is per thread.
 */
public final class ConnectionSpanIds {
  private ConnectionSpanIds() {}

  private static final ThreadLocal<String[]> NEXT = new ThreadLocal<>();

  /** The span context the connection's span has (sampled flag set: links carry no decision). */
  public static SpanContext context(ConnectionEvent e) {
    long[] ids = ids(e);
    return SpanContext.create(TraceId.fromLongs(ids[0], ids[1]), SpanId.fromLong(ids[2]), TraceFlags.getSampled(),
        TraceState.getDefault());
  }

  /** {trace id high, trace id low, span id}, none zero. */
  static long[] ids(ConnectionEvent e) {
    long h = 0x9E3779B97F4A7C15L;
    h = mix(h ^ e.side().ordinal());
    h = mix(h ^ e.localAddress().hashCode());
    h = mix(h ^ ((long) e.localPort() << 16 | e.peerPort()));
    h = mix(h ^ e.peerAddress().hashCode());
    h = mix(h ^ e.startEpochNanos());
    long hi = mix(h ^ 0x1L);
    long lo = mix(h ^ 0x2L);
    long span = mix(h ^ 0x3L);
    return new long[] {hi == 0 ? 1 : hi, lo == 0 ? 1 : lo, span == 0 ? 1 : span};
  }

  /** SplitMix64's finalizer: every input bit affects every output bit. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The next span started on this thread is the connection's (see {@link #takeSpanId()}). */
  static void presetFor(ConnectionEvent e) {
    SpanContext c = context(e);
    NEXT.set(new String[] {c.getTraceId(), c.getSpanId()});
  }

  static void clearPreset() {
    NEXT.remove();
  }

  /** For an SDK id generator: the preset trace id of this thread's next span, once; else null. */
  public static String takeTraceId() {
    String[] next = NEXT.get();
    if (next == null || next[0] == null) {
      return null;
    }
    String id = next[0];
    next[0] = null;
    return id;
  }

  /** For an SDK id generator: the preset span id of this thread's next span, once; else null. */
  public static String takeSpanId() {
    String[] next = NEXT.get();
    if (next == null || next[1] == null) {
      return null;
    }
    String id = next[1];
    next[1] = null;
    return id;
  }
}
