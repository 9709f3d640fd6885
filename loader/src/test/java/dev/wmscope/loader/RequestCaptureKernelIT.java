package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Request capture on the real kernel: the data records of a captured loopback connection chain
 * without a gap from offset 0 in each direction, add up to exactly the bytes moved, and carry
 * exactly the first min(length, budget) bytes of each read and send, whatever boundaries the
 * kernel and the threads chose. The server is this JVM (its reads and writes are read(2) and
 * write(2)); the agent's end-to-end tests cover PHP's recvfrom/sendto.
 */
@KernelTest
class RequestCaptureKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  private final List<ConnRecord> records = new ArrayList<>();
  private final List<DataRecord> data = new ArrayList<>();

  /** Client bytes (several writes, with pauses) and the server's answer, one connection. */
  private record Exchange(int clientPort, byte[] request, byte[] response) {}

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /**
   * One connection: the client writes {@code request} in {@code pieces} writes 20 ms apart, then
   * half-closes; the server reads it all (64 KiB reads), answers {@code response} in one write
   * and closes.
   */
  private static Exchange exchange(ServerSocket server, byte[] request, int pieces, byte[] response)
      throws Exception {
    CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
      try (Socket s = server.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
        }
        assertThat(got.toByteArray()).isEqualTo(request);
        out.write(response);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    try (Socket c = new Socket(V4, server.getLocalPort())) {
      int step = (request.length + pieces - 1) / pieces;
      for (int off = 0; off < request.length; off += step) {
        c.getOutputStream().write(request, off, Math.min(step, request.length - off));
        c.getOutputStream().flush();
        Thread.sleep(20);
      }
      c.shutdownOutput();
      byte[] answer = c.getInputStream().readAllBytes();
      assertThat(answer).isEqualTo(response);
      served.get(10, TimeUnit.SECONDS);
      return new Exchange(c.getLocalPort(), request, response);
    }
  }

  private void pollUntilClosed(ConnectionProbe probe, int serverPort, int closes) {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline && records.stream()
        .filter(r -> r.type() == ConnEventType.CLOSE && r.localPort() == serverPort).count() < closes) {
      probe.poll(100);
    }
    probe.poll(100);
  }

  private long cookieOf(int serverPort, int clientPort) {
    return records.stream().filter(r -> r.localPort() == serverPort && r.remotePort() == clientPort)
        .findFirst().orElseThrow(() -> new AssertionError("no record for client port " + clientPort)).cookie();
  }

  /** The records of one direction chain from 0, sum to the truth and carry its first bytes. */
  private void assertExact(long cookie, boolean send, byte[] truth, int budget) {
    List<DataRecord> dir = data.stream().filter(d -> d.cookie() == cookie && d.send() == send).toList();
    assertThat(dir).as("%s records", send ? "send" : "receive").isNotEmpty();
    long expected = 0;
    for (DataRecord d : dir) {
      assertThat(d.streamOffset()).as("offset follows on").isEqualTo(expected);
      assertThat(d.noBuffer()).isFalse();
      assertThat(d.readFailed()).isFalse();
      assertThat(d.pid()).isEqualTo(ProcessHandle.current().pid());
      int want = Math.min(d.length(), budget);
      assertThat(d.bytes()).as("captured bytes at offset %d", expected)
          .isEqualTo(Arrays.copyOfRange(truth, (int) expected, (int) expected + want));
      expected = d.endOffset();
    }
    assertThat(expected).as("bytes %s in total", send ? "sent" : "received").isEqualTo(truth.length);
  }

  @Test
  void dataRecordsChainAddUpAndCarryTheFirstBytesOfEveryReadAndSend() throws Exception {
    var options = ConnectionProbe.Options.defaults().withCaptureBytes(1000);
    try (ConnectionProbe probe = ConnectionProbe.start(options, records::add, data::add);
        ServerSocket server = new ServerSocket(0, 50, V4)) {
      assertThat(probe.has(KernelFeature.REQUEST_CAPTURE)).as(probe.features().toString()).isTrue();
      probe.watchPort(server.getLocalPort(), true);
      List<Exchange> truth = new ArrayList<>();
      truth.add(exchange(server, random(300, 1), 3, random(200, 2)));        // small, several reads
      truth.add(exchange(server, random(5000, 3), 2, random(150_000, 4)));   // beyond the budget
      truth.add(exchange(server, random(1, 5), 1, random(1, 6)));            // one byte each way
      pollUntilClosed(probe, server.getLocalPort(), truth.size());
      for (Exchange x : truth) {
        long cookie = cookieOf(server.getLocalPort(), x.clientPort());
        assertExact(cookie, false, x.request(), 1000);
        assertExact(cookie, true, x.response(), 1000);
      }
      assertThat(probe.drops()).containsEntry(DropReason.DATA_RINGBUF_FULL, 0L);
      assertThat(probe.decodeErrors()).isZero();
    }
  }

  @Test
  void aWatchedPortWithoutCaptureAndAnUnwatchedOneGiveNoDataRecords() throws Exception {
    try (ConnectionProbe probe = ConnectionProbe.start(ConnectionProbe.Options.defaults(), records::add, data::add);
        ServerSocket tracked = new ServerSocket(0, 50, V4); ServerSocket other = new ServerSocket(0, 50, V4)) {
      probe.watchPort(tracked.getLocalPort(), false);
      exchange(tracked, random(400, 7), 2, random(400, 8));
      exchange(other, random(400, 9), 2, random(400, 10));
      pollUntilClosed(probe, tracked.getLocalPort(), 1);
      assertThat(records).as("the watched port's connection is tracked")
          .anyMatch(r -> r.type() == ConnEventType.CLOSE && r.localPort() == tracked.getLocalPort());
      assertThat(data).isEmpty();
    }
  }

  @Test
  void aBudgetOfZeroSwitchesCaptureOffWithItsReason() throws Exception {
    var options = ConnectionProbe.Options.defaults().withCaptureBytes(0);
    try (ConnectionProbe probe = ConnectionProbe.start(options, records::add, data::add);
        ServerSocket server = new ServerSocket(0, 50, V4)) {
      FeatureStatus capture = probe.features().get(KernelFeature.REQUEST_CAPTURE);
      assertThat(capture.ok()).isFalse();
      assertThat(capture.cause()).contains("turned off");
      KernelFeature.REQUEST_CAPTURE.programs().forEach(p -> assertThat(probe.object().program(p).loaded()).as(p).isFalse());
      probe.watchPort(server.getLocalPort(), true);
      exchange(server, random(400, 11), 1, random(400, 12));
      pollUntilClosed(probe, server.getLocalPort(), 1);
      assertThat(data).isEmpty();
    }
  }
}
