package dev.wmscope.otel;

/**
 * One HTTP request a watched worker served, as framed from the bytes it read and sent (plain
 * values; the agent builds these from the kernel's data records).
 *
 * @param connection        the connection it came over (addresses, worker, pid)
 * @param method            the request method as sent (the bridge maps unknown ones to _OTHER)
 * @param target            the request target as sent (path and query), capped in length by the
 *                          agent; never empty for a parsed request
 * @param protocolVersion   {@code 1.0} or {@code 1.1}
 * @param status            the response status code, 0 when no response was seen
 * @param startEpochNanos   when the read that delivered the request's first byte returned
 * @param firstByteEpochNanos when the send that carried the response's first byte returned, 0
 *                          without a response
 * @param endEpochNanos     when the send that carried the response's last byte returned (or the
 *                          connection closed, for a request without a complete response)
 * @param requestBodySize   request body bytes, -1 when not known
 * @param responseBodySize  response body bytes, -1 when not known
 * @param host              the Host header, null when absent
 * @param userAgent         the User-Agent header, null when absent
 * @param traceparent       the W3C traceparent header, null when absent
 * @param tracestate        the W3C tracestate header, null when absent
 * @param errorType         why the exchange did not complete ({@link #CONNECTION_CLOSED},
 *                          {@link #RESPONSE_TRUNCATED}), null when it did
 */
public record HttpExchange(
    ConnectionEvent connection,
    String method,
    String target,
    String protocolVersion,
    int status,
    long startEpochNanos,
    long firstByteEpochNanos,
    long endEpochNanos,
    long requestBodySize,
    long responseBodySize,
    String host,
    String userAgent,
    String traceparent,
    String tracestate,
    String errorType) {

  /** The connection closed before any response byte was sent. */
  public static final String CONNECTION_CLOSED = "connection_closed";
  /** The connection closed while the response was being sent (fewer bytes than it announced). */
  public static final String RESPONSE_TRUNCATED = "response_truncated";

  /** Duration in nanoseconds (never negative). */
  public long durationNanos() {
    return Math.max(0, endEpochNanos - startEpochNanos);
  }
}
