package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.KernelTestExtension;
import dev.wmscope.loader.testing.LoopbackTraffic;
import dev.wmscope.loader.testing.LoopbackTraffic.Exchange;
import dev.wmscope.loader.testing.RawListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real sock_ops program on the host's cgroup v2 root, with loopback ground truth. */
@KernelTest
class ConnectionProbeKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();

  private final List<ConnRecord> records = new ArrayList<>();

  private ConnectionProbe startProbe() {
    ConnectionProbe probe = ConnectionProbe.start(ConnectionProbe.Options.defaults(), records::add);
    assertThat(probe.features().get(KernelFeature.RECV_ATTRIBUTION).cause())
        .as("sock_recv_length is in this kernel (Linux >= 6.3)").doesNotStartWith("not in this kernel");
    return probe;
  }

  /** Polls until {@code expectedCloses} close records for the port arrived, or 20 s passed. */
  private List<ConnRecord> closesFor(ConnectionProbe probe, int port, int expectedCloses) {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline && closes(port).size() < expectedCloses) {
      probe.poll(100);
    }
    probe.poll(200); // anything beyond the expected count would show up here
    return closes(port);
  }

  private List<ConnRecord> closes(int port) {
    return records.stream()
        .filter(r -> r.type() == ConnEventType.CLOSE && (r.localPort() == port || r.remotePort() == port))
        .toList();
  }

  private List<ConnRecord> opens(int port) {
    return records.stream().filter(r -> r.type() == ConnEventType.OPEN && r.localPort() == port).toList();
  }

  @Test
  void theVerifierRejectsNoProgramOfOurs() {
    // a kernel may refuse a feature by policy (EPERM: map-element iterators on the -fc builds) or
    // lack it (EINVAL, "not in this kernel"); EACCES is the verifier refusing what a program
    // does, a bug of ours that the feature fallbacks would otherwise hide (a cgroup program once
    // read a field of struct sock through its bpf_sock)
    try (ConnectionProbe probe = ConnectionProbe.start(ConnectionProbe.Options.defaults(), records::add)) {
      assertThat(probe.features().values()).filteredOn(f -> !f.ok())
          .allSatisfy(f -> assertThat(f.cause()).as(f.describe()).doesNotContain("EACCES"));
    }
  }

  @Test
  void twoHundredConnectionsGiveExactlyTwoHundredExactRecords() throws Exception {
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(V4)) {
      probe.watchPort(server.port());
      List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), 200, 100, 37);

      List<ConnRecord> closed = closesFor(probe, server.port(), 200);

      assertThat(closed).hasSize(200);
      assertThat(opens(server.port())).hasSize(200).allSatisfy(o -> assertThat(o.pid()).isEqualTo(ProcessHandle.current().pid()));
      Map<Exchange, ConnRecord> byExchange = LoopbackTraffic.recordsOf(truth, closed, ConnRecord::remotePort);
      for (Exchange x : truth) {
        ConnRecord r = byExchange.get(x);
        assertThat(r).as("record for client port %d", x.clientPort()).isNotNull();
        assertThat(r.side()).isEqualTo(ConnSide.SERVER);
        // the server's own threads read the request: the connection belongs to this process
        assertThat(r.attributed()).isTrue();
        assertThat(r.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(r.localPort()).isEqualTo(server.port());
        assertThat(r.localAddress()).isEqualTo(V4);
        assertThat(r.remoteAddress()).isEqualTo(V4);
        assertThat(r.bytesReceived()).as("bytes received, client port %d", x.clientPort()).isEqualTo(x.bytesSentByClient());
        assertThat(r.bytesAcked()).as("bytes acked, client port %d", x.clientPort()).isEqualTo(x.bytesSentByServer());
        assertThat(r.endMonoNanos()).isGreaterThan(r.startMonoNanos());
        assertThat(r.dataSegsIn()).isPositive();
        assertThat(r.dataSegsOut()).isPositive();
      }
      assertThat(probe.drops()).containsEntry(DropReason.RINGBUF_FULL, 0L).containsEntry(DropReason.CONN_MAP_FULL, 0L);
      assertThat(probe.trackedConnections()).as("connections still counted as tracked").isZero();
    }
  }

  /**
   * The agent reports a worker's exit once its poll thread has drained past the exit (the closes
   * the exit caused are in): that needs one poll to hand on every record committed before it
   * began, not just the first ring-full.
   */
  @Test
  void onePollHandsOnEveryRecordCommittedBeforeItBegan() throws Exception {
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(V4)) {
      probe.watchPort(server.port());
      LoopbackTraffic.exchanges(V4, server.port(), 300, 100, 37);
      Thread.sleep(300); // the last closes are committed
      long before = MonotonicClock.monotonicNow();
      probe.poll(100);
      List<ConnRecord> first = List.copyOf(records);
      List<ConnRecord> all = closesFor(probe, server.port(), 300);
      assertThat(all).hasSize(300).allSatisfy(r -> assertThat(r.endMonoNanos()).isLessThan(before));
      assertThat(first).as("records of the one poll").containsAll(all).containsAll(opens(server.port()));
      assertThat(opens(server.port())).hasSize(300);
    }
  }

  /**
   * The reader follows the kernel's ring protocol itself: in a ring of four pages, 600 records
   * wrap around it again and again (records that straddle its end are read through the second
   * mapping of its pages), and every one arrives once, with its exact bytes.
   */
  @Test
  void aSmallRingWrapsManyTimesWithoutLosingOrGarblingARecord() throws Exception {
    var options = ConnectionProbe.Options.defaults().withRingBufferBytes(16 * 1024).withCaptureBytes(0);
    try (ConnectionProbe probe = ConnectionProbe.start(options, records::add);
        var server = new LoopbackTraffic.Server(V4)) {
      probe.watchPort(server.port());
      List<Exchange> truth = new ArrayList<>();
      for (int batch = 0; batch < 15; batch++) { // 20 connections (40 records) fit the ring at once
        truth.addAll(LoopbackTraffic.exchanges(V4, server.port(), 20, 100 + batch * 20 * 37, 37));
        long until = System.nanoTime() + 5_000_000_000L;
        while (closes(server.port()).size() < truth.size() && System.nanoTime() < until) {
          probe.poll(50);
        }
      }
      List<ConnRecord> closed = closesFor(probe, server.port(), 300);
      assertThat(probe.drops()).containsEntry(DropReason.RINGBUF_FULL, 0L);
      assertThat(closed).hasSize(300);
      assertThat(opens(server.port())).hasSize(300);
      Map<Exchange, ConnRecord> byExchange = LoopbackTraffic.recordsOf(truth, closed, ConnRecord::remotePort);
      for (Exchange x : truth) {
        ConnRecord r = byExchange.get(x);
        assertThat(r).as("record for client port %d", x.clientPort()).isNotNull();
        assertThat(r.bytesReceived()).isEqualTo(x.bytesSentByClient());
        assertThat(r.bytesAcked()).isEqualTo(x.bytesSentByServer());
      }
    }
  }

  /**
   * A tracing program is skipped while it already runs on the same CPU (a softirq closing one
   * connection on top of the state tracepoint in another's close()), so the connections sock_ops
   * tracked are finished by its own state callback: with the tracepoint told to leave them alone,
   * every close record still arrives, exact, on both ends, and so does a refused connect's.
   */
  @Test
  void sockOpsAloneFinishesTheConnectionsItTracked() throws Exception {
    int self = (int) ProcessHandle.current().pid();
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(V4)) {
      probe.leaveSockopsClosesToSockops(true);
      probe.watchPort(server.port());
      probe.watchPid(self); // our connects: the client ends are tracked too
      List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), 50, 300, 29);
      int refused;
      try (ServerSocket s = new ServerSocket(0, 1, V4)) {
        refused = s.getLocalPort();
      }
      assertThatThrownBy(() -> new Socket(V4, refused).close()).isInstanceOf(IOException.class);

      List<ConnRecord> closed = closesFor(probe, server.port(), 100);
      long until = System.nanoTime() + 5_000_000_000L;
      while (closes(refused).isEmpty() && System.nanoTime() < until) {
        probe.poll(100);
      }
      assertThat(closed).hasSize(100);
      Map<Exchange, ConnRecord> servers = LoopbackTraffic.recordsOf(truth,
          closed.stream().filter(r -> r.side() == ConnSide.SERVER).toList(), ConnRecord::remotePort);
      Map<Exchange, ConnRecord> clients = LoopbackTraffic.recordsOf(truth,
          closed.stream().filter(r -> r.side() == ConnSide.CLIENT).toList(), ConnRecord::localPort);
      assertThat(closed.stream().filter(r -> r.side() == ConnSide.SERVER)).hasSize(50);
      assertThat(servers).hasSize(50);
      assertThat(clients).hasSize(50);
      for (Exchange x : truth) {
        assertThat(servers.get(x).bytesReceived()).isEqualTo(x.bytesSentByClient());
        assertThat(clients.get(x).bytesReceived()).isEqualTo(x.bytesSentByServer());
      }
      assertThat(closes(refused)).as("the refused connect's close record").hasSize(1);
    }
  }

  @Test
  void beyondMaxConnectionsConnectionsAreCountedNotTracked() throws Exception {
    var options = ConnectionProbe.Options.defaults().withMaxConnections(5);
    try (ConnectionProbe probe = ConnectionProbe.start(options, records::add);
        var server = new LoopbackTraffic.Server(V4)) {
      probe.watchPort(server.port());
      List<java.net.Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i < 8; i++) {
          held.add(new java.net.Socket(V4, server.port()));
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (probe.drops().get(DropReason.CONN_MAP_FULL) < 3 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(probe.trackedConnections()).as("tracked while all 8 are open").isEqualTo(5);
        assertThat(probe.drops()).containsEntry(DropReason.CONN_MAP_FULL, 3L);
      } finally {
        for (java.net.Socket s : held) {
          s.close();
        }
      }
      assertThat(closesFor(probe, server.port(), 5)).as("one close record per tracked connection").hasSize(5);
      assertThat(probe.trackedConnections()).as("the budget is given back at each close").isZero();

      // room again: a new connection is tracked
      LoopbackTraffic.exchange(V4, server.port(), 10);
      assertThat(closesFor(probe, server.port(), 6)).hasSize(6);
      assertThat(probe.drops()).containsEntry(DropReason.CONN_MAP_FULL, 3L);
    }
  }

  @Test
  void unwatchedPortProducesNothing() throws Exception {
    try (ConnectionProbe probe = startProbe();
        var watched = new LoopbackTraffic.Server(V4);
        var unwatched = new LoopbackTraffic.Server(V4)) {
      probe.watchPort(watched.port());
      LoopbackTraffic.exchanges(V4, unwatched.port(), 20, 10, 3);
      LoopbackTraffic.exchanges(V4, watched.port(), 1, 10, 3);

      closesFor(probe, watched.port(), 1);

      assertThat(closes(watched.port())).hasSize(1);
      assertThat(records).noneMatch(r -> r.localPort() == unwatched.port() || r.remotePort() == unwatched.port());
    }
  }

  @Test
  void aClientOfAnUnwatchedProcessIsNotTrackedWhenItsLocalPortNumberIsAWatchedOne() throws Exception {
    // an ephemeral port is any free number, on its own address a watched port's number too: a
    // client from 127.0.0.3:P to a watched server on 127.0.0.1:P is the server's connection only
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(V4)) {
      probe.watchPort(server.port());
      try (java.net.Socket s = new java.net.Socket()) {
        s.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.3"), server.port()));
        s.setSoTimeout(10_000);
        s.connect(new java.net.InetSocketAddress(V4, server.port()), 5_000);
        var out = new java.io.DataOutputStream(s.getOutputStream());
        out.writeInt(11);
        out.write(new byte[11]);
        out.flush();
        s.getInputStream().readAllBytes(); // odd payload: the server replies and closes first
      }

      List<ConnRecord> closed = closesFor(probe, server.port(), 1);

      assertThat(closed).singleElement().satisfies(r -> {
        assertThat(r.side()).isEqualTo(ConnSide.SERVER);
        assertThat(r.bytesReceived()).isEqualTo(15);
        assertThat(r.bytesAcked()).isEqualTo(LoopbackTraffic.replySize(11));
      });
    }
  }

  @Test
  void ipv6LoopbackIsTrackedWithExactBytes() throws Exception {
    InetAddress v6 = InetAddress.getByName("::1");
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(v6)) {
      probe.watchPort(server.port());
      List<Exchange> truth = LoopbackTraffic.exchanges(v6, server.port(), 50, 1000, 101);

      List<ConnRecord> closed = closesFor(probe, server.port(), 50);

      assertThat(closed).hasSize(50);
      Map<Exchange, ConnRecord> byExchange = LoopbackTraffic.recordsOf(truth, closed, ConnRecord::remotePort);
      for (Exchange x : truth) {
        ConnRecord r = byExchange.get(x);
        assertThat(r.remoteAddress()).isInstanceOf(Inet6Address.class).isEqualTo(v6);
        assertThat(r.ipv6()).isTrue();
        assertThat(r.bytesReceived()).isEqualTo(x.bytesSentByClient());
        assertThat(r.bytesAcked()).isEqualTo(x.bytesSentByServer());
      }
    }
  }

  @Test
  void v4MappedConnectionsOnADualStackSocketDecodeAsIpv4() throws Exception {
    // a server bound to :: accepts IPv4 clients as ::ffff:127.0.0.1
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(InetAddress.getByName("::"))) {
      probe.watchPort(server.port());
      Exchange x = LoopbackTraffic.exchange(V4, server.port(), 64);

      List<ConnRecord> closed = closesFor(probe, server.port(), 1);

      assertThat(closed).singleElement().satisfies(r -> {
        assertThat(r.remoteAddress()).isEqualTo(V4);
        assertThat(r.ipv6()).isFalse();
        assertThat(r.remotePort()).isEqualTo(x.clientPort());
        assertThat(r.bytesReceived()).isEqualTo(x.bytesSentByClient());
      });
    }
  }

  @Test
  void outboundConnectionsOfAWatchedProcessAreClientSide() throws Exception {
    int self = (int) ProcessHandle.current().pid();
    try (ConnectionProbe probe = startProbe(); var server = new LoopbackTraffic.Server(V4)) {
      probe.watchPid(self); // the server port stays unwatched: only our connects count
      List<Exchange> truth = LoopbackTraffic.exchanges(V4, server.port(), 10, 500, 11);

      List<ConnRecord> closed = closesFor(probe, server.port(), 10);

      assertThat(closed).hasSize(10).allSatisfy(r -> {
        assertThat(r.side()).isEqualTo(ConnSide.CLIENT);
        assertThat(r.pid()).isEqualTo(self);
        assertThat(r.comm()).isNotEmpty();
        assertThat(r.remotePort()).isEqualTo(server.port());
      });
      Map<Exchange, ConnRecord> byExchange = LoopbackTraffic.recordsOf(truth, closed, ConnRecord::localPort);
      for (Exchange x : truth) {
        ConnRecord r = byExchange.get(x);
        assertThat(r.bytesAcked()).as("client bytes sent").isEqualTo(x.bytesSentByClient());
        assertThat(r.bytesReceived()).as("client bytes received").isEqualTo(x.bytesSentByServer());
      }
    }
  }

  @Test
  void rejectedLoadCarriesErrnoAndTheLibbpfLog() {
    try (BpfObject object = BpfObject.openResource(ConnectionProbe.class, ConnectionProbe.OBJECT_RESOURCE)) {
      object.setMaxEntries(ConnectionProbe.MAP_WATCHED_PIDS, 0); // the kernel refuses an empty hash map
      assertThatThrownBy(object::load)
          .isInstanceOfSatisfying(BpfException.class, e -> {
            assertThat(e.errno()).isEqualTo(22);
            assertThat(e.getMessage()).startsWith("load BPF object").contains("EINVAL");
            assertThat(e.log()).anyMatch(line -> line.contains("watched_pids"));
          });
    }
  }

  @Test
  void attachFailureHalfWayLeaksNothing(@TempDir Path notACgroup) {
    var options = ConnectionProbe.Options.defaults().withCgroup(notACgroup);
    assertThatThrownBy(() -> ConnectionProbe.start(options, records::add))
        .isInstanceOfSatisfying(BpfException.class, e -> {
          // the accept hooks go on the cgroup first (attribution before tracking); a path that is
          // no cgroup fails the start even for them, it is no refusal by the kernel
          assertThat(e.getMessage()).containsPattern("attach wmscope_(accept4|sockops) to cgroup " + notACgroup);
          assertThat(e.errno()).isPositive();
        });
    // the extension checks after this test that no program, link or fd was left behind
  }

  /** Polls until an open record for the port arrived (or 10 s passed). */
  private List<ConnRecord> awaitOpens(ConnectionProbe probe, int port) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline && opens(port).isEmpty()) {
      probe.poll(100);
    }
    return opens(port);
  }

  /** A connection accepted on a thread of its own. */
  private interface Served extends AutoCloseable {
    /** Reads the one byte the client sends. */
    void readByte() throws IOException;

    @Override
    void close() throws IOException;
  }

  private interface Accept {
    Served accept() throws IOException;
  }

  /** Runs {@code action} on a platform thread named {@code name} and waits for it. */
  private static void onThread(String name, Accept action, Served[] out) throws InterruptedException {
    Thread.ofPlatform().name(name).start(() -> {
      try {
        out[0] = action.accept();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).join(10_000);
  }

  /**
   * Connects to the watched port, accepts on a thread named {@code threadName} and, with no byte
   * sent either way, expects the accept alone to have opened and attributed the connection.
   * Where the kernel does not run the accept hooks (accept_attribution lost), the fallback
   * instead: nothing before traffic, then the thread that reads the first byte is the owner
   * (or, without recv_attribution too, the thread that closes).
   */
  private void assertAttributedAtAccept(ConnectionProbe probe, int port, String threadName, Accept accept)
      throws Exception {
    probe.watchPort(port);
    boolean atAccept = probe.has(KernelFeature.ACCEPT_ATTRIBUTION);
    boolean atReceive = probe.has(KernelFeature.RECV_ATTRIBUTION);
    String owner = atAccept ? threadName : atReceive ? threadName + "-rd" : threadName + "-cl";
    try (Socket client = new Socket(V4, port)) {
      Served[] accepted = new Served[1];
      onThread(threadName, accept, accepted);
      if (!atAccept) {
        probe.poll(300);
        assertThat(opens(port)).as("not attributed before traffic without the accept hooks").isEmpty();
        client.getOutputStream().write(1);
        onThread(threadName + "-rd", () -> {
          accepted[0].readByte();
          return accepted[0];
        }, accepted);
        if (!atReceive) {
          onThread(threadName + "-cl", () -> {
            accepted[0].close();
            return accepted[0];
          }, accepted);
        }
      }
      try (Served ignored = accepted[0]) {
        assertThat(awaitOpens(probe, port)).singleElement().satisfies(o -> {
          assertThat(o.attributed()).isTrue();
          assertThat(o.pid()).isEqualTo(ProcessHandle.current().pid());
          assertThat(o.comm()).isEqualTo(owner);
          assertThat(o.remotePort()).isEqualTo(client.getLocalPort());
        });
      }
    }
  }

  @Test
  void acceptAskingThePeerAddressAttributesBeforeAnyTraffic() throws Exception {
    // Java's accept asks for the peer's address, as PHP's stream_socket_accept does; its
    // sockets are dual-stack AF_INET6: the getpeername6 hook
    try (ConnectionProbe probe = startProbe(); ServerSocket server = new ServerSocket(0, 50, V4)) {
      assertAttributedAtAccept(probe, server.getLocalPort(), "wm-acceptor", () -> {
        Socket s = server.accept();
        return new Served() {
          @Override
          public void readByte() throws IOException {
            s.getInputStream().read();
          }

          @Override
          public void close() throws IOException {
            s.close();
          }
        };
      });
    }
  }

  @Test
  void ipv4AcceptAskingThePeerAddressAttributesBeforeAnyTraffic() throws Exception {
    // a plain AF_INET socket (PHP's are): the getpeername4 hook
    try (ConnectionProbe probe = startProbe(); RawListener server = new RawListener()) {
      assertAttributedAtAccept(probe, server.port(), "wm-acceptor4", () -> {
        RawListener.Conn c = server.acceptWithAddress();
        return new Served() {
          @Override
          public void readByte() throws IOException {
            c.read(1);
          }

          @Override
          public void close() {
            c.close();
          }
        };
      });
    }
  }

  @Test
  void serverThatNeverReadsIsAttributedAtItsClose() throws Exception {
    int self = (int) ProcessHandle.current().pid();
    try (ConnectionProbe probe = startProbe(); RawListener server = new RawListener()) {
      probe.watchPort(server.port());
      try (Socket client = new Socket(V4, server.port())) {
        client.setSoTimeout(10_000);
        Thread owner = Thread.ofPlatform().name("wm-greeter").start(() -> {
          // accepted without the peer's address, greets, closes: never a receive on this end
          try (RawListener.Conn c = server.acceptWithoutAddress()) {
            c.write("hello\n".getBytes(StandardCharsets.US_ASCII));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
        owner.join(10_000);
        assertThat(client.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("hello\n");
      }
      List<ConnRecord> closed = closesFor(probe, server.port(), 1);
      assertThat(opens(server.port())).singleElement().satisfies(o -> {
        assertThat(o.attributed()).isTrue();
        assertThat(o.pid()).isEqualTo(self);
        assertThat(o.comm()).isEqualTo("wm-greeter");
      });
      assertThat(closed).singleElement().satisfies(c -> {
        assertThat(c.side()).isEqualTo(ConnSide.SERVER);
        assertThat(c.bytesAcked()).isEqualTo(6);
        assertThat(c.bytesReceived()).isZero();
      });
    }
  }

  @Test
  void closingTwiceIsHarmlessAndDetaches() {
    ConnectionProbe probe = startProbe();
    List<String> expected = new ArrayList<>(KernelFeature.CORE_PROGRAMS);
    probe.features().values().stream().filter(FeatureStatus::ok).forEach(f -> expected.addAll(f.feature().programs()));
    // kernel program names are cut at 15 characters
    assertThat(BpfSystem.wmscopePrograms()).extracting(BpfSystem.LoadedProgram::name)
        .containsAll(expected.stream().map(n -> n.length() > 15 ? n.substring(0, 15) : n).toList());
    probe.close();
    probe.close();
    assertThat(KernelTestExtension.awaitNoWmscopePrograms()).isEmpty();
  }
}
