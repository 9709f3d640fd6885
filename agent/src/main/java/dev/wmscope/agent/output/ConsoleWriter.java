package dev.wmscope.agent.output;

import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.otel.ConnectionEvent;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** A readable line per closed connection, in the spirit of tcplife. */
public final class ConsoleWriter implements ConnectionListener {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  private final PrintStream out;

  public ConsoleWriter(PrintStream out) {
    this.out = out;
  }

  @Override
  public void opened(ConnectionEvent event) {}

  @Override
  public void closed(ConnectionEvent e) {
    out.println(format(e));
  }

  @Override
  public void endOfBatch() {
    out.flush();
  }

  static String format(ConnectionEvent e) {
    boolean server = e.side() == ConnectionEvent.Side.SERVER;
    String owner = e.pid() > 0 ? e.pid() + "/" + e.processName() : "-";
    return String.format(Locale.ROOT, "%s %-6s %s %s %s  pid=%s rx=%dB tx=%dB rtt=%dus retrans=%d dur=%.3fms",
        TIME.format(Instant.ofEpochSecond(0, e.endEpochNanos())),
        server ? "server" : "client",
        hostPort(e.localAddress(), e.localPort()),
        server ? "<-" : "->",
        hostPort(e.peerAddress(), e.peerPort()),
        owner, e.bytesReceived(), e.bytesSent(), e.srttMicros(), e.retransmits(), e.durationNanos() / 1e6);
  }

  private static String hostPort(String host, int port) {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
