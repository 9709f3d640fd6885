package dev.wmscope.loader;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * A decoded {@code struct wm_conn_event}. Addresses are Java {@link InetAddress}es: an IPv4
 * address arriving v4-mapped on an IPv6 socket ({@code ::ffff:a.b.c.d}) decodes to an
 * {@link java.net.Inet4Address}. Times are kernel CLOCK_MONOTONIC nanoseconds; convert with
 * {@link MonotonicClock}. Counters are those of the connection since it was established.
 */
public record ConnRecord(
    ConnEventType type,
    ConnSide side,
    long cookie,
    long startMonoNanos,
    long endMonoNanos,
    InetAddress localAddress,
    int localPort,
    InetAddress remoteAddress,
    int remotePort,
    long pid,
    String comm,
    long bytesReceived,
    long bytesAcked,
    long dataSegsIn,
    long dataSegsOut,
    long srttMicros,
    long totalRetrans,
    int prevState) {

  /** True for a genuinely IPv6 connection (not a v4-mapped one). */
  public boolean ipv6() {
    return remoteAddress instanceof Inet6Address;
  }
}
