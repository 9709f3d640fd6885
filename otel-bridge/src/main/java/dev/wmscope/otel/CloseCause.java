package dev.wmscope.otel;

/** How a connection ended, as the kernel told it: the values of {@code wmscope.close.cause}. */
public enum CloseCause {
  /** Normal close, this host sent the first FIN. */
  FIN_LOCAL("fin_local", false),
  /** Normal close, the peer sent the first FIN. */
  FIN_PEER("fin_peer", false),
  /** This host reset the connection (e.g. closed it with unread data, or SO_LINGER 0). */
  RST_SENT("rst_sent", true),
  /** The peer reset the connection. */
  RST_RECEIVED("rst_received", true),
  /** Retransmissions or the handshake timed out. */
  TIMEOUT("timeout", true),
  /** An outbound connect was refused (RST to the SYN). */
  REFUSED("refused", true);

  private final String value;
  private final boolean abnormal;

  CloseCause(String value, boolean abnormal) {
    this.value = value;
    this.abnormal = abnormal;
  }

  /** The attribute value. */
  public String value() {
    return value;
  }

  /** Resets, timeouts and refusals: the span gets status ERROR and error.type. */
  public boolean abnormal() {
    return abnormal;
  }
}
