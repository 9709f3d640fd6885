package dev.wmscope.otel;

import dev.wmscope.otel.ConnectionEvent.Side;

/** Connection events with known values for the bridge tests. */
final class Events {

  private Events() {}

  static final long START = 1_700_000_000_123_456_789L;

  /** A worker (pid 4242, comm "php") accepted 192.0.2.7:51234 on 10.0.0.5:8080; 2.5 s long. */
  static ConnectionEvent serverIpv4() {
    return new ConnectionEvent(
        Side.SERVER, false, "10.0.0.5", 8080, "192.0.2.7", 51234, START, START + 2_500_000_000L,
        1200, 3400, 12, 9, 250, 1, 4242, "php");
  }

  /** An unknown process connected from [2001:db8::1]:40000 to [2001:db8::2]:6379; 1.234567 ms. */
  static ConnectionEvent clientIpv6() {
    return new ConnectionEvent(
        Side.CLIENT, true, "2001:db8::1", 40000, "2001:db8::2", 6379, START, START + 1_234_567L,
        77, 88, 3, 4, 90, 0, 0, "");
  }

  /** A SERVER connection on 10.0.0.5:8080 owned by pid 4242, from the given peer port. */
  static ConnectionEvent server(int peerPort, long durationNanos, long received, long sent) {
    return new ConnectionEvent(
        Side.SERVER, false, "10.0.0.5", 8080, "192.0.2." + (peerPort % 250 + 1), peerPort, START,
        START + durationNanos, received, sent, 1, 1, 100, 0, 4242, "php");
  }

  /** The "opened" notification for the same connection: end time and counters zero. */
  static ConnectionEvent opening(ConnectionEvent e) {
    return new ConnectionEvent(
        e.side(), e.ipv6(), e.localAddress(), e.localPort(), e.peerAddress(), e.peerPort(),
        e.startEpochNanos(), 0, 0, 0, 0, 0, 0, 0, e.pid(), e.processName());
  }
}
