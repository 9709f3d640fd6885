package dev.wmscope.loader;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * A decoded {@code struct wm_conn_event}. Addresses are Java {@link InetAddress}es: an IPv4
 * address arriving v4-mapped on an IPv6 socket ({@code ::ffff:a.b.c.d}) decodes to an
 * {@link java.net.Inet4Address}. Times are kernel CLOCK_MONOTONIC nanoseconds; convert with
 * {@link MonotonicClock}. Counters are those of the connection since it was established. For an
 * accepted connection, pid and comm are those of the process whose send or receive touched the
 * socket first (the worker that accepted it); 0 and empty if none did before it closed. A
 * preexisting connection's open record carries {@code sockInode} instead, for user space to
 * find its owner. {@code skErr} and the RST/FIN flags of a close record tell how it ended.
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
    int prevState,
    int skErr,
    long sockInode) {

  // Bits of flags, mirroring enum wm_conn_flags.
  public static final int FLAG_ATTRIBUTED = 2;
  public static final int FLAG_PREEXISTING = 4;
  public static final int FLAG_RST_SENT = 8;
  public static final int FLAG_RST_RECEIVED = 16;
  public static final int FLAG_FIN_LOCAL_FIRST = 32;
  public static final int FLAG_FIN_PEER_FIRST = 64;

  // TCP states (include/net/tcp_states.h) and socket errors that tell how a connection ended.
  public static final int TCP_SYN_SENT = 2;
  public static final int ECONNRESET = 104;
  public static final int ETIMEDOUT = 110;
  /** The socket error a reset received in CLOSE_WAIT leaves (tcp_reset). */
  public static final int EPIPE = 32;
  public static final int ECONNREFUSED = 111;

  /** Whether {@link #pid()} and {@link #comm()} are known. */
  public boolean attributed() {
    return (flags & FLAG_ATTRIBUTED) != 0;
  }

  /** Open before wmscope watched it (adopted by the iterator); counted from adoption on. */
  public boolean preexisting() {
    return (flags & FLAG_PREEXISTING) != 0;
  }

  public boolean has(int flag) {
    return (flags & flag) != 0;
  }

  /** True for a genuinely IPv6 connection (not a v4-mapped one). */
  public boolean ipv6() {
    return remoteAddress instanceof Inet6Address;
  }
}
