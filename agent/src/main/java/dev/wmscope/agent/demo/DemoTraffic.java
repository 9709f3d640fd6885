package dev.wmscope.agent.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Bounded demo traffic: a fixed number of connections, evenly spread over a fixed time. */
public final class DemoTraffic {
  private DemoTraffic() {}

  /** What the client side did, to compare with what the kernel reported. */
  public record Summary(int connections, long bytesSent, long bytesReceived) {}

  public static Summary run(int port, int connections, int seconds) throws IOException, InterruptedException {
    long pauseNanos = seconds * 1_000_000_000L / connections;
    long sent = 0;
    long received = 0;
    for (int i = 0; i < connections; i++) {
      long started = System.nanoTime();
      try (Socket s = new Socket()) {
        s.setSoTimeout(5_000);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
        byte[] line = ("hello workerman #" + i + " " + "x".repeat(i * 7) + "\n").getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(line);
        out.flush();
        s.shutdownOutput();
        InputStream in = s.getInputStream();
        sent += line.length;
        received += in.readAllBytes().length;
      }
      long rest = pauseNanos - (System.nanoTime() - started);
      if (rest > 0) {
        Thread.sleep(rest / 1_000_000, (int) (rest % 1_000_000));
      }
    }
    return new Summary(connections, sent, received);
  }
}
