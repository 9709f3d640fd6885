package dev.wmscope.agent.probe;

import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnSide;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import java.net.InetAddress;

/**
 * Hands a kernel record across to the bridge as plain values: the one place that knows both
 * the loader's and the bridge's types, so neither module sees the other.
 */
public final class RecordMapper {
  private final MonotonicClock clock;

  public RecordMapper(MonotonicClock clock) {
    this.clock = clock;
  }

  public ConnectionEvent toEvent(ConnRecord r) {
    return new ConnectionEvent(
        r.side() == ConnSide.SERVER ? ConnectionEvent.Side.SERVER : ConnectionEvent.Side.CLIENT,
        r.ipv6(),
        text(r.localAddress()),
        r.localPort(),
        text(r.remoteAddress()),
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
        r.comm());
  }

  /** The bare address text (getHostAddress never resolves names and has no leading slash). */
  static String text(InetAddress address) {
    return address.getHostAddress();
  }
}
