package dev.wmscope.agent.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounded demo traffic for a Workerman app with a text worker and an HTTP worker, on loopback:
 * a few long-lived text connections that talk every 400 ms for the whole run (like WebSocket
 * clients), short text connections spread evenly over the run, and every third step an HTTP
 * keep-alive session of three requests. Everything stops after {@code duration}; every socket
 * has a timeout.
 */
public final class WorkermanTraffic {
  private WorkermanTraffic() {}

  static final int LONG_LIVED = 6;
  static final Duration TICK = Duration.ofMillis(400);

  /** What the clients did, to compare with what the kernel reported. */
  public record Summary(int textConnections, int httpConnections, long bytesSent, long bytesReceived, long errors) {
    public String describe() {
      return String.format(Locale.ROOT, "%d text and %d HTTP connections, %d bytes sent and %d received by the clients%s",
          textConnections, httpConnections, bytesSent, bytesReceived, errors == 0 ? "" : " (" + errors + " failed)");
    }
  }

  /**
   * Runs the traffic; {@code midway} runs once, halfway through, while the long-lived
   * connections are open.
   */
  public static Summary run(int textPort, int httpPort, int shortConnections, Duration duration, Runnable midway)
      throws InterruptedException {
    AtomicLong sent = new AtomicLong();
    AtomicLong received = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> talkers = new ArrayList<>();
    for (int i = 0; i < LONG_LIVED; i++) {
      int id = i;
      talkers.add(Thread.ofVirtual().name("demo-long-" + i).start(() -> {
        try (Socket s = connect(textPort)) {
          for (int n = 0; running.get(); n++) {
            byte[] line = ("client " + id + " tick " + n + " " + "z".repeat(id * 20) + "\n").getBytes(StandardCharsets.UTF_8);
            exchange(s, line, sent, received);
            Thread.sleep(TICK.toMillis());
          }
        } catch (IOException e) {
          errors.incrementAndGet();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
    int steps = Math.max(1, shortConnections);
    long stepNanos = duration.toNanos() / steps;
    int http = 0;
    boolean midwayDone = false;
    long start = System.nanoTime();
    for (int i = 0; i < steps; i++) {
      long begin = System.nanoTime();
      try (Socket s = connect(textPort)) {
        byte[] line = ("hello workerman #" + i + " " + "x".repeat((i % 10) * 50) + "\n").getBytes(StandardCharsets.UTF_8);
        exchange(s, line, sent, received);
      } catch (IOException e) {
        errors.incrementAndGet();
      }
      if (i % 3 == 0) {
        http++;
        try (Socket s = connect(httpPort)) {
          for (int r = 0; r < 3; r++) {
            httpGet(s, "/bytes/" + (1000 * (r + 1) + i), sent, received);
          }
        } catch (IOException e) {
          errors.incrementAndGet();
        }
      }
      if (!midwayDone && System.nanoTime() - start >= duration.toNanos() / 2) {
        midwayDone = true;
        midway.run();
      }
      long rest = stepNanos - (System.nanoTime() - begin);
      if (rest > 0) {
        Thread.sleep(rest / 1_000_000, (int) (rest % 1_000_000));
      }
    }
    if (!midwayDone) {
      midway.run();
    }
    running.set(false);
    for (Thread t : talkers) {
      t.join(5_000);
    }
    return new Summary(steps + LONG_LIVED, http, sent.get(), received.get(), errors.get());
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.setSoTimeout(5_000);
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
    return s;
  }

  /** Sends a line and reads the echoed line. */
  private static void exchange(Socket s, byte[] line, AtomicLong sent, AtomicLong received) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(line);
    out.flush();
    sent.addAndGet(line.length);
    InputStream in = s.getInputStream();
    int n = 0;
    while (n < line.length) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed by the server");
      }
      n++;
      if (c == '\n') {
        break;
      }
    }
    received.addAndGet(n);
  }

  /** One keep-alive GET; reads the headers and exactly Content-Length body bytes. */
  private static void httpGet(Socket s, String path, AtomicLong sent, AtomicLong received) throws IOException {
    byte[] req = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wmscope-demo\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    s.getOutputStream().write(req);
    s.getOutputStream().flush();
    sent.addAndGet(req.length);
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed by the server");
      }
      head.write(c);
      matched = (c == '\r' && (matched == 0 || matched == 2)) || (c == '\n' && (matched == 1 || matched == 3))
          ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String headers = head.toString(StandardCharsets.US_ASCII);
    long length = 0;
    for (String h : headers.split("\r\n")) {
      if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Long.parseLong(h.substring(15).strip());
      }
    }
    long body = in.readNBytes((int) length).length;
    if (body != length) {
      throw new IOException("short body");
    }
    received.addAndGet(head.size() + body);
  }
}
