package dev.wmscope.otel;

import dev.wmscope.otel.ConnectionEvent.Side;
import io.opentelemetry.api.common.Attributes;

/** Connection events with known values for the bridge tests. */
final class Events {

  private Events() {}

  static final long START = 1_700_000_000_123_456_789L;

  /** The Workerman gateway that owns pid 4242 in these tests. */
  static final WorkerIdentity GATEWAY =
      new WorkerIdentity(
          "ChatGateway", "websocket://0.0.0.0:8080", 4000, "/srv/chat/start.php", "gateway");

  /** Metric attributes of every SERVER event from {@link #server} and {@link #serverIpv4}. */
  static final Attributes SERVER_8080 =
      Attributes.builder()
          .put(TelemetryNames.SERVER_PORT, 8080L)
          .put(TelemetryNames.CONNECTION_SIDE, "server")
          .put(TelemetryNames.NETWORK_TYPE, "ipv4")
          .put(TelemetryNames.CONNECTION_INTERNAL, false)
          .put(TelemetryNames.PROCESS_PID, 4242L)
          .put(TelemetryNames.WORKERMAN_WORKER_NAME, "ChatGateway")
          .build();

  /** Histogram attributes of the same events: the counters' labels without process.pid. */
  static final Attributes SERVER_8080_HISTOGRAM = SERVER_8080.toBuilder().remove(TelemetryNames.PROCESS_PID).build();

  /** {@code a} plus network.io.direction (receive or transmit). */
  static Attributes withDirection(Attributes a, String direction) {
    return a.toBuilder().put(TelemetryNames.NETWORK_IO_DIRECTION, direction).build();
  }

  /**
   * The ChatGateway worker (pid 4242, comm "php") accepted 192.0.2.7:51234 on 10.0.0.5:8080;
   * 2.5 s long; external traffic.
   */
  static ConnectionEvent serverIpv4() {
    return new ConnectionEvent(
        Side.SERVER, false, "10.0.0.5", 8080, "192.0.2.7", 51234, START, START + 2_500_000_000L,
        1200, 3400, 12, 9, 250, 1, 4242, "php", GATEWAY, false);
  }

  /**
   * An unknown process (no worker) connected from [2001:db8::1]:40000 to [2001:db8::2]:6379;
   * 1.234567 ms; external traffic.
   */
  static ConnectionEvent clientIpv6() {
    return new ConnectionEvent(
        Side.CLIENT, true, "2001:db8::1", 40000, "2001:db8::2", 6379, START, START + 1_234_567L,
        77, 88, 3, 4, 90, 0, 0, "", null, false);
  }

  /**
   * An external SERVER connection on 10.0.0.5:8080 owned by pid 4242 (the ChatGateway worker),
   * from the given peer port.
   */
  static ConnectionEvent server(int peerPort, long durationNanos, long received, long sent) {
    return new ConnectionEvent(
        Side.SERVER, false, "10.0.0.5", 8080, "192.0.2." + (peerPort % 250 + 1), peerPort, START,
        START + durationNanos, received, sent, 1, 1, 100, 0, 4242, "php", GATEWAY, false);
  }

  /**
   * The "opened" notification for the same connection: end time, counters and close cause zero
   * or null.
   */
  static ConnectionEvent opening(ConnectionEvent e) {
    return new ConnectionEvent(
        e.side(), e.ipv6(), e.localAddress(), e.localPort(), e.peerAddress(), e.peerPort(),
        e.startEpochNanos(), 0, 0, 0, 0, 0, 0, 0, e.pid(), e.processName(), e.worker(),
        e.internal(), null, e.preexisting());
  }

  /** The same connection, ended the way {@code cause} says (null: cause unknown). */
  static ConnectionEvent closedBy(ConnectionEvent e, CloseCause cause) {
    return with(e, e.worker(), e.internal(), cause, e.preexisting());
  }

  /** The same connection, found already open when wmscope started watching. */
  static ConnectionEvent preexisting(ConnectionEvent e) {
    return with(e, e.worker(), e.internal(), e.closeCause(), true);
  }

  /** The same connection marked as internal (both ends watched on this host). */
  static ConnectionEvent internal(ConnectionEvent e) {
    return with(e, e.worker(), true, e.closeCause(), e.preexisting());
  }

  /** The same connection attributed to {@code worker} (null: no Workerman worker known). */
  static ConnectionEvent withWorker(ConnectionEvent e, WorkerIdentity worker) {
    return with(e, worker, e.internal(), e.closeCause(), e.preexisting());
  }

  private static ConnectionEvent with(
      ConnectionEvent e,
      WorkerIdentity worker,
      boolean internal,
      CloseCause cause,
      boolean preexisting) {
    return new ConnectionEvent(
        e.side(), e.ipv6(), e.localAddress(), e.localPort(), e.peerAddress(), e.peerPort(),
        e.startEpochNanos(), e.endEpochNanos(), e.bytesReceived(), e.bytesSent(), e.segmentsIn(),
        e.segmentsOut(), e.srttMicros(), e.retransmits(), e.pid(), e.processName(), worker,
        internal, cause, preexisting);
  }
}
