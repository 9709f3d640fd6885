package dev.wmscope.agent.http;

import java.util.Objects;

/**
 * Where the agent's HTTP server listens: a host (name or IP literal) and a TCP port, parsed from
 * {@code host:port} or {@code [ipv6]:port}. Port 0 asks the kernel for a free port (tests).
 *
 * @param host the bind address; {@code 127.0.0.1} by default so nothing is exposed off the host
 * @param port 0-65535
 */
public record HttpAddress(String host, int port) {
  /** The default: loopback only, on the port Prometheus exporters conventionally use. */
  public static final HttpAddress DEFAULT = new HttpAddress("127.0.0.1", 9464);

  public HttpAddress {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("no host");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not a TCP port (0-65535)");
    }
  }

  /**
   * Parses {@code host:port}, {@code [::1]:port} or {@code :port} (all interfaces).
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static HttpAddress parse(String text) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(text + ": expected host:port, e.g. 127.0.0.1:9464");
    }
    String host = t.substring(0, colon);
    String port = t.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      throw new IllegalArgumentException(text + ": write an IPv6 address in brackets, e.g. [::1]:9464");
    }
    if (host.isEmpty()) {
      host = "0.0.0.0";
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(text + ": port " + port + " is not a number");
    }
    return new HttpAddress(host, p);
  }

  /** The reason in a {@link #parse} error without the repeated text ("expected host:port, ..."). */
  public static String reason(String text, IllegalArgumentException e) {
    String m = e.getMessage() == null ? "invalid" : e.getMessage();
    String prefix = text.trim() + ": ";
    return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }

  /** {@code host:port} with IPv6 literals in brackets, as in a URL. */
  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
