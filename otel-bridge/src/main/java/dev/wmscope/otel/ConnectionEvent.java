package dev.wmscope.otel;

/**
 * One TCP connection as the bridge sees it: plain values, no kernel or FFM types. The agent
 * builds these from the loader's records. For an "opened" notification the end time and all
 * counters are zero.
 *
 * @param side           SERVER for an accepted connection, CLIENT for one this host initiated
 * @param ipv6           true when the connection is genuinely IPv6 (v4-mapped addresses are
 *                       reported as IPv4 by the agent)
 * @param localAddress   textual local IP address (no brackets)
 * @param localPort      local TCP port
 * @param peerAddress    textual remote IP address (no brackets)
 * @param peerPort       remote TCP port
 * @param startEpochNanos wall-clock time the connection was established (ns since the epoch)
 * @param endEpochNanos  wall-clock time it closed, 0 while open
 * @param bytesReceived  payload bytes received from the peer
 * @param bytesSent      payload bytes sent to and acknowledged by the peer
 * @param segmentsIn     data segments received
 * @param segmentsOut    data segments sent
 * @param srttMicros     smoothed round-trip time at close, in microseconds
 * @param retransmits    total retransmitted segments
 * @param pid            owning process id (tgid), 0 when unknown
 * @param processName    kernel thread name (comm) of the owner, empty when unknown
 * @param worker         the Workerman worker that owns it, null when the owner is not one
 * @param internal       true when both ends are processes wmscope watches on this host (e.g.
 *                       gateway to business worker), so internal and client traffic are never
 *                       summed together
 * @param closeCause     how it ended; null while open or when unknown
 * @param preexisting    open before wmscope watched it: start time and counters are from the
 *                       moment it was found, not from its establishment
 */
public record ConnectionEvent(
    Side side,
    boolean ipv6,
    String localAddress,
    int localPort,
    String peerAddress,
    int peerPort,
    long startEpochNanos,
    long endEpochNanos,
    long bytesReceived,
    long bytesSent,
    long segmentsIn,
    long segmentsOut,
    long srttMicros,
    long retransmits,
    long pid,
    String processName,
    WorkerIdentity worker,
    boolean internal,
    CloseCause closeCause,
    boolean preexisting) {

  /** An event without close cause that was tracked from its establishment. */
  public ConnectionEvent(Side side, boolean ipv6, String localAddress, int localPort, String peerAddress,
      int peerPort, long startEpochNanos, long endEpochNanos, long bytesReceived, long bytesSent,
      long segmentsIn, long segmentsOut, long srttMicros, long retransmits, long pid, String processName,
      WorkerIdentity worker, boolean internal) {
    this(side, ipv6, localAddress, localPort, peerAddress, peerPort, startEpochNanos, endEpochNanos,
        bytesReceived, bytesSent, segmentsIn, segmentsOut, srttMicros, retransmits, pid, processName, worker,
        internal, null, false);
  }

  /** The same connection owned by another process (found later, e.g. by socket inode). */
  public ConnectionEvent withOwner(long pid, String processName, WorkerIdentity worker) {
    return new ConnectionEvent(side, ipv6, localAddress, localPort, peerAddress, peerPort, startEpochNanos,
        endEpochNanos, bytesReceived, bytesSent, segmentsIn, segmentsOut, srttMicros, retransmits, pid, processName,
        worker, internal, closeCause, preexisting);
  }

  /** The same connection, classified internal or not (a link's server end learns it late). */
  public ConnectionEvent withInternal(boolean internal) {
    return new ConnectionEvent(side, ipv6, localAddress, localPort, peerAddress, peerPort, startEpochNanos,
        endEpochNanos, bytesReceived, bytesSent, segmentsIn, segmentsOut, srttMicros, retransmits, pid, processName,
        worker, internal, closeCause, preexisting);
  }

  /** The same connection with the owner another event names (the one it opened with). */
  public ConnectionEvent withOwnerOf(ConnectionEvent other) {
    return withOwner(other.pid, other.processName, other.worker);
  }

  /** Which end of the connection this host is. */
  public enum Side {
    /** Accepted by a local listener (passive open): the span kind is SERVER. */
    SERVER,
    /** Initiated by a local process (active open): the span kind is CLIENT. */
    CLIENT
  }

  /** The server end's address: local for accepted connections, remote for initiated ones. */
  public String serverAddress() {
    return side == Side.SERVER ? localAddress : peerAddress;
  }

  /** The server end's port: local for accepted connections, remote for initiated ones. */
  public int serverPort() {
    return side == Side.SERVER ? localPort : peerPort;
  }

  /** Duration in nanoseconds, 0 while open. */
  public long durationNanos() {
    return endEpochNanos == 0 ? 0 : Math.max(0, endEpochNanos - startEpochNanos);
  }
}
