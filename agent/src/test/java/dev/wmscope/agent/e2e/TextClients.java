package dev.wmscope.agent.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Long-lived clients of a Workerman text worker (the stand-in echoes each line): each sends
 * one line of a known length and reads it back, then stays open until closed. The known
 * traffic pattern of the CLI, API and page tests.
 */
final class TextClients implements AutoCloseable {
  /** One open client: its local port (the server's peer port) and the bytes it sent (= received). */
  record Client(Socket socket, String localAddress, int localPort, int bytes) {}

  private final List<Client> clients = new ArrayList<>();

  /**
   * Opens {@code lengths.length} clients; client i sends a line of {@code lengths[i]} bytes
   * (newline included) from {@code from} (any 127.x address; null for the default).
   */
  TextClients open(int port, InetAddress from, int... lengths) throws IOException {
    for (int len : lengths) {
      Socket s = new Socket();
      s.setSoTimeout(5_000);
      if (from != null) {
        s.bind(new InetSocketAddress(from, 0));
      }
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
      byte[] line = ("x".repeat(len - 1) + "\n").getBytes(StandardCharsets.US_ASCII);
      s.getOutputStream().write(line);
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      if (in.readNBytes(len).length != len) {
        throw new IOException("short echo");
      }
      clients.add(new Client(s, s.getLocalAddress().getHostAddress(), s.getLocalPort(), len));
    }
    return this;
  }

  List<Client> clients() {
    return clients;
  }

  long totalBytes() {
    return clients.stream().mapToLong(Client::bytes).sum();
  }

  @Override
  public void close() throws IOException {
    for (Client c : clients) {
      c.socket().close();
    }
  }
}
