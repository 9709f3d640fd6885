package dev.wmscope.loader.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Loopback traffic with known ground truth. Each exchange: the client sends a 4-byte length L
 * and L payload bytes; the server answers with {@link #replySize(int)} bytes. Even exchanges
 * close client first (the client half-closes, the server reads to EOF, replies, closes); odd
 * ones close server first (the server reads exactly 4+L, replies, closes). Both TCP teardown
 * paths are thus exercised. Bounded: every socket has a timeout, the server stops on close.
 */
public final class LoopbackTraffic {
  private LoopbackTraffic() {}

  /** Reply size for a request of {@code payload} bytes. */
  public static int replySize(int payload) {
    return payload * 2 + 5;
  }

  /** One finished exchange as the client saw it. */
  public record Exchange(int clientPort, int bytesSentByClient, int bytesSentByServer) {}

  /**
   * Each exchange's record among {@code records}: the one of its client port, or when the port
   * served two exchanges in turn (the kernel may hand a client port out again as soon as its
   * connection closed), the one that moved its bytes (payloads differ). Missing when none does.
   *
   * @param clientPort where a record names the client's port (remotePort of a server end,
   *                   localPort of a client end)
   */
  public static java.util.Map<Exchange, dev.wmscope.loader.ConnRecord> recordsOf(List<Exchange> truth,
      List<dev.wmscope.loader.ConnRecord> records, java.util.function.ToIntFunction<dev.wmscope.loader.ConnRecord> clientPort) {
    java.util.Map<Integer, List<dev.wmscope.loader.ConnRecord>> byPort = new java.util.HashMap<>();
    for (dev.wmscope.loader.ConnRecord r : records) {
      byPort.computeIfAbsent(clientPort.applyAsInt(r), k -> new ArrayList<>()).add(r);
    }
    java.util.Map<Exchange, dev.wmscope.loader.ConnRecord> out = new java.util.HashMap<>();
    for (Exchange x : truth) {
      List<dev.wmscope.loader.ConnRecord> candidates = byPort.getOrDefault(x.clientPort(), List.of());
      long moved = (long) x.bytesSentByClient() + x.bytesSentByServer();
      dev.wmscope.loader.ConnRecord r = candidates.size() == 1 ? candidates.getFirst()
          : candidates.stream().filter(c -> c.bytesReceived() + c.bytesAcked() == moved).findFirst().orElse(null);
      if (r != null) {
        out.put(x, r);
      }
    }
    return out;
  }

  /** A server on a loopback address (port 0 picks one) running the protocol above. */
  public static final class Server implements AutoCloseable {
    private final ServerSocket socket;
    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final Thread acceptor;

    public Server(InetAddress address) throws IOException {
      socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(address, 0), 512);
      acceptor = Thread.ofPlatform().name("loopback-server-" + port()).daemon().start(this::acceptLoop);
    }

    public int port() {
      return socket.getLocalPort();
    }

    private void acceptLoop() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          pool.execute(() -> serve(s));
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private static void serve(Socket s) {
      try (s) {
        s.setSoTimeout(10_000);
        DataInputStream in = new DataInputStream(s.getInputStream());
        int len = in.readInt();
        boolean clientClosesFirst = (len & 1) == 0;
        in.readNBytes(len);
        if (clientClosesFirst) {
          while (in.read() >= 0) {
            // wait for the client's FIN
          }
        }
        OutputStream out = s.getOutputStream();
        out.write(new byte[replySize(len)]);
        out.flush();
      } catch (IOException e) {
        // the test asserts on what it sees; a broken exchange shows there
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      pool.shutdownNow();
      try {
        acceptor.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Runs one exchange with an even payload (client closes first) or odd (server closes first).
   */
  public static Exchange exchange(InetAddress address, int port, int payload) throws IOException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(10_000);
      s.connect(new InetSocketAddress(address, port), 5_000);
      int clientPort = s.getLocalPort();
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(payload);
      out.write(new byte[payload]);
      out.flush();
      if ((payload & 1) == 0) {
        s.shutdownOutput();
      }
      InputStream in = s.getInputStream();
      int received = 0;
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) >= 0; ) {
        received += n;
      }
      return new Exchange(clientPort, 4 + payload, received);
    }
  }

  /** Runs {@code count} exchanges with distinct payload sizes {@code base + i * step}. */
  public static List<Exchange> exchanges(InetAddress address, int port, int count, int base, int step)
      throws IOException {
    List<Exchange> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(exchange(address, port, base + i * step));
    }
    return out;
  }
}
