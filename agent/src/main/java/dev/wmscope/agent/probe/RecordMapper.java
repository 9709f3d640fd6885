package dev.wmscope.agent.probe;

import dev.wmscope.agent.selection.InternalTraffic;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.loader.ConnEventType;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnSide;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.CloseCause;
import dev.wmscope.otel.ConnectionEvent;
import java.net.InetAddress;

/**
 * Hands a kernel record across to the bridge as plain values, adding what only the agent
 * knows: the Workerman identity of the owning pid and whether the traffic is internal. The one
 * place that knows both the loader's and the bridge's types, so neither module sees the other.
 * Used from the poll thread only.
 */
public final class RecordMapper {
  private final MonotonicClock clock;
  private final ProcessDirectory directory;
  private final InternalTraffic internal;

  public RecordMapper(MonotonicClock clock, ProcessDirectory directory, InternalTraffic internal) {
    this.clock = clock;
    this.directory = directory;
    this.internal = internal;
  }

  public ConnectionEvent toEvent(ConnRecord r) {
    boolean server = r.side() == ConnSide.SERVER;
    boolean isInternal = r.type() == ConnEventType.OPEN
        ? internal.opened(r.cookie(), server, r.localAddress(), r.localPort(), r.remoteAddress(), r.remotePort())
        : internal.closed(r.cookie(), server, r.localAddress(), r.localPort(), r.remoteAddress(), r.remotePort());
    return new ConnectionEvent(
        server ? ConnectionEvent.Side.SERVER : ConnectionEvent.Side.CLIENT,
        r.ipv6(),
        cachedText(r.localAddress()),
        r.localPort(),
        cachedText(r.remoteAddress()),
        r.remotePort(),
        clock.toEpochNanos(r.startMonoNanos()),
        r.endMonoNanos() == 0 ? 0 : clock.toEpochNanos(r.endMonoNanos()),
        r.bytesReceived(),
        r.bytesAcked(),
        r.dataSegsIn(),
        r.dataSegsOut(),
        r.srttMicros(),
        r.totalRetrans(),
        r.pid(),
        // a thread name is any process's to set (prctl): escaped here (the same instance when clean)
        dev.wmscope.agent.discovery.ProcText.clean(r.comm(), dev.wmscope.agent.discovery.ProcText.NAME_LIMIT),
        r.pid() > 0 ? directory.lookup(r.pid()) : null,
        isInternal,
        closeCause(r),
        r.preexisting());
  }

  /**
   * The open connections that turned internal since the last call (their other end opened
   * after them, see {@link InternalTraffic}): call after each open record.
   */
  public void drainTurnedInternal(java.util.function.LongConsumer cookies) {
    internal.drainTurnedInternal(cookies);
  }

  // TCP states (include/net/tcp_states.h) the close cause depends on.
  private static final int ESTABLISHED = 1;
  private static final int FIN_WAIT1 = 4;
  private static final int FIN_WAIT2 = 5;
  private static final int CLOSE_WAIT = 8;
  private static final int LAST_ACK = 9;
  private static final int CLOSING = 11;

  /**
   * How a connection ended, from the socket error, the reset marks and who sent the first FIN.
   * Errors first: a connection may exchange FINs and still end in a reset. The reset marks only
   * confirm what the socket error and the last state already say, so the causes are the same
   * without the reset tracepoints (reset_marks lost): tcp_reset() leaves ECONNRESET (EPIPE in
   * CLOSE_WAIT) before the close, and an abort by this host (close with unread data, SO_LINGER
   * 0) goes from ESTABLISHED or CLOSE_WAIT straight to CLOSE without an error; the kernel sends
   * that reset only after the CLOSE, too late for any mark.
   */
  static CloseCause closeCause(ConnRecord r) {
    if (r.type() != ConnEventType.CLOSE) {
      return null;
    }
    if (r.prevState() == ConnRecord.TCP_SYN_SENT) {
      return r.skErr() == ConnRecord.ECONNREFUSED || r.has(ConnRecord.FLAG_RST_RECEIVED)
          ? CloseCause.REFUSED : CloseCause.TIMEOUT;
    }
    if (r.skErr() == ConnRecord.ETIMEDOUT) {
      return CloseCause.TIMEOUT;
    }
    if (r.has(ConnRecord.FLAG_RST_RECEIVED) || r.skErr() == ConnRecord.ECONNRESET
        || r.skErr() == ConnRecord.EPIPE && r.prevState() == CLOSE_WAIT) {
      return CloseCause.RST_RECEIVED;
    }
    if (r.has(ConnRecord.FLAG_RST_SENT)
        || r.skErr() == 0 && (r.prevState() == ESTABLISHED || r.prevState() == CLOSE_WAIT)) {
      return CloseCause.RST_SENT;
    }
    if (r.has(ConnRecord.FLAG_FIN_LOCAL_FIRST)) {
      return CloseCause.FIN_LOCAL;
    }
    if (r.has(ConnRecord.FLAG_FIN_PEER_FIRST)) {
      return CloseCause.FIN_PEER;
    }
    return switch (r.prevState()) {
      case FIN_WAIT1, FIN_WAIT2, CLOSING -> CloseCause.FIN_LOCAL;
      case LAST_ACK -> CloseCause.FIN_PEER;
      default -> null;
    };
  }

  /** The bare address text (getHostAddress never resolves names and has no leading slash). */
  static String text(InetAddress address) {
    return address.getHostAddress();
  }

  /*
   * The text of the last address seen in each slot: a host's connections repeat a few addresses,
   * and the decoder hands out the same InetAddress instance for repeated bytes, so most lookups
   * are an identity check instead of formatting the address again.
   */
  private record AddressText(InetAddress address, String text) {}

  private final AddressText[] texts = new AddressText[256];

  private String cachedText(InetAddress address) {
    int slot = (address.hashCode() * 0x9E3779B9 >>> 24) & (texts.length - 1);
    AddressText hit = texts[slot];
    if (hit != null && (hit.address() == address || hit.address().equals(address))) {
      return hit.text();
    }
    String text = text(address);
    texts[slot] = new AddressText(address, text);
    return text;
  }
}
