package dev.wmscope.loader;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * A decoded {@code struct wm_conn_event}. Addresses are Java {@link InetAddress}es: an IPv4
 * address arriving v4-mapped on an IPv6 socket ({@code ::ffff:a.b.c.d}) decodes to an
 * {@link java.net.Inet4Address}. Times are kernel CLOCK_MONOTONIC nanoseconds; convert with
 * {@link MonotonicClock}. Counters are those of the connection since it was established. For an
 * accepted connection, pid and comm are those of the process whose send or receive touched the
 * socket first (the worker that accepted it); 0 and empty if none did before it closed.
 */
public record ConnRecord(
    ConnEventType type,
    ConnSide side,
    int flags,
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

  /** Mirrors {@code WM_CONN_ATTRIBUTED}: pid and comm name the process that used the socket. */
  public static final int FLAG_ATTRIBUTED = 2;

  /** Whether {@link #pid()} and {@link #comm()} are known. */
  public boolean attributed() {
    return (flags & FLAG_ATTRIBUTED) != 0;
  }

  /** True for a genuinely IPv6 connection (not a v4-mapped one). */
  public boolean ipv6() {
    return remoteAddress instanceof Inet6Address;
  }
}
