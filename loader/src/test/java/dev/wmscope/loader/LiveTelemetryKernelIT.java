package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.testing.KernelTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Live counters, resets, accept queues, adoption of existing connections and loss accounting.
 * The live reads run with every feature this kernel allows and again with the tracked-sockets
 * iterator off (the full iter/tcp walk every time, as on kernels that refuse map iterators),
 * against the same ground truth.
 */
@KernelTest
class LiveTelemetryKernelIT {
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private final List<ConnRecord> records = new CopyOnWriteArrayList<>();

  private ConnectionProbe start(ConnectionProbe.Options options) {
    return ConnectionProbe.start(options, records::add);
  }

  /** Defaults without the features named in {@code off} (comma-separated, may be empty). */
  private static ConnectionProbe.Options without(String off) {
    return ConnectionProbe.Options.defaults().withDisabled(KernelFeature.parseList(off));
  }

  private List<ConnRecord> await(ConnectionProbe probe, Predicate<ConnRecord> match, int count) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline && records.stream().filter(match).count() < count) {
      probe.poll(50);
    }
    return records.stream().filter(match).toList();
  }

  private static Optional<LiveConn> live(LiveSnapshot s, long cookie) {
    return s.connections().stream().filter(c -> c.cookie() == cookie).findFirst();
  }

  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter"})
  void longLivedConnectionCountsGrowWhileOpenAndCloseExactly(String off) throws Exception {
    try (ConnectionProbe probe = start(without(off));
        ServerSocket server = new ServerSocket(0, 50, V4)) {
      probe.watchPort(server.getLocalPort());
      try (Socket client = new Socket(V4, server.getLocalPort()); Socket accepted = server.accept()) {
        OutputStream out = client.getOutputStream();
        InputStream in = accepted.getInputStream();
        out.write(new byte[1]); // the server side's first read attributes it and opens it
        in.readNBytes(1);
        ConnRecord open = await(probe, r -> r.type() == ConnEventType.OPEN && r.localPort() == server.getLocalPort(), 1).getFirst();
        List<Long> seen = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          out.write(new byte[1000]);
          out.flush();
          in.readNBytes(1000);
          Thread.sleep(100);
          seen.add(live(probe.snapshot(), open.cookie()).orElseThrow().bytesReceived());
        }
        assertThat(seen).isSortedAccordingTo(Long::compare).doesNotHaveDuplicates();
        assertThat(seen.getLast()).isEqualTo(6001);
        accepted.getOutputStream().write(new byte[777]);
        client.getInputStream().readNBytes(777);
        // the peer's FIN is in: a live read must not count it as a byte
        client.shutdownOutput();
        assertThat(in.read()).isEqualTo(-1);
        assertThat(live(probe.snapshot(), open.cookie()).orElseThrow().bytesReceived()).isEqualTo(6001);
      }
      ConnRecord close = await(probe, r -> r.type() == ConnEventType.CLOSE && r.localPort() == server.getLocalPort(), 1).getFirst();
      assertThat(close.bytesReceived()).isEqualTo(6001);
      assertThat(close.bytesAcked()).isEqualTo(777);
      assertThat(live(probe.snapshot(), close.cookie())).isEmpty();
    }
  }

  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "reset_marks"})
  void peerResetIsMarkedAsReceivedAndRefusedConnectAsRefused(String off) throws Exception {
    int self = (int) ProcessHandle.current().pid();
    try (ConnectionProbe probe = start(without(off));
        ServerSocket server = new ServerSocket(0, 50, V4)) {
      probe.watchPort(server.getLocalPort());
      try (Socket client = new Socket(V4, server.getLocalPort()); Socket accepted = server.accept()) {
        client.getOutputStream().write(1);
        accepted.getInputStream().read();
        client.setSoLinger(true, 0); // close with RST
        client.close();
        accepted.setSoTimeout(2000);
        try {
          accepted.getInputStream().read();
        } catch (IOException expected) {
          // connection reset
        }
      }
      ConnRecord reset = await(probe, r -> r.type() == ConnEventType.CLOSE && r.localPort() == server.getLocalPort(), 1).getFirst();
      // without the reset tracepoints the socket error alone tells it (set before the close)
      assertThat(reset.has(ConnRecord.FLAG_RST_RECEIVED)).isEqualTo(probe.has(KernelFeature.RESET_MARKS));
      assertThat(reset.skErr()).isEqualTo(ConnRecord.ECONNRESET);
      assertThat(reset.has(ConnRecord.FLAG_RST_SENT)).isFalse();

      int closedPort;
      try (ServerSocket s = new ServerSocket(0, 1, V4)) {
        closedPort = s.getLocalPort();
      }
      probe.watchPid(self);
      try (Socket refused = new Socket()) {
        refused.connect(new InetSocketAddress(V4, closedPort), 1000);
      } catch (ConnectException expected) {
        // refused
      }
      ConnRecord failed = await(probe, r -> r.type() == ConnEventType.CLOSE && r.remotePort() == closedPort, 1).getFirst();
      assertThat(failed.side()).isEqualTo(ConnSide.CLIENT);
      assertThat(failed.prevState()).isEqualTo(ConnRecord.TCP_SYN_SENT);
      assertThat(failed.skErr()).isEqualTo(ConnRecord.ECONNREFUSED);
      assertThat(failed.pid()).isEqualTo(self);
    }
  }

  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter"})
  void listenerThatStopsAcceptingShowsItsQueueAndOverflows(String off) throws Exception {
    int backlog = 4;
    List<Socket> clients = new ArrayList<>();
    List<SocketChannel> channels = new ArrayList<>();
    try (ConnectionProbe probe = start(without(off));
        ServerSocket server = new ServerSocket(0, backlog, V4)) {
      probe.watchPort(server.getLocalPort());
      ListenerState idle = probe.snapshot().listeners().stream()
          .filter(l -> l.port() == server.getLocalPort()).findFirst().orElseThrow();
      assertThat(idle.acceptQueue()).isZero();
      assertThat(idle.acceptLimit()).isEqualTo(backlog);
      assertThat(idle.sockInode()).isPositive();

      for (int i = 0; i < 3; i++) {
        clients.add(new Socket(V4, server.getLocalPort()));
      }
      ListenerState three = probe.snapshot().listeners().stream()
          .filter(l -> l.port() == server.getLocalPort()).findFirst().orElseThrow();
      assertThat(three.acceptQueue()).isEqualTo(3);

      // past the backlog the listener drops SYNs and handshake ACKs (clients retry): connect
      // without waiting, then look
      for (int i = 0; i < 10; i++) {
        SocketChannel ch = SocketChannel.open();
        channels.add(ch);
        ch.configureBlocking(false);
        ch.connect(new InetSocketAddress(V4, server.getLocalPort()));
      }
      Thread.sleep(300);
      ListenerState full = probe.snapshot().listeners().stream()
          .filter(l -> l.port() == server.getLocalPort()).findFirst().orElseThrow();
      assertThat(full.acceptQueue()).isEqualTo(backlog + 1); // Linux admits backlog + 1
      assertThat(full.drops()).isPositive();
    } finally {
      for (Socket s : clients) {
        s.close();
      }
      for (SocketChannel ch : channels) {
        ch.close();
      }
    }
  }

  /**
   * A connection adopted while it still waits in the accept queue has no file yet, so no inode
   * can name its owner: its open record waits for the accept, which attributes it to the process
   * that accepted, as for any accepted socket (before the fix it was reported with no owner, for
   * good).
   */
  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter", "accept_attribution"})
  void aConnectionAdoptedInTheAcceptQueueIsAttributedAtItsAccept(String off) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 10, V4); Socket client = new Socket(V4, server.getLocalPort())) {
      client.getOutputStream().write(new byte[7]); // it waits, unaccepted, with 7 unread bytes
      try (ConnectionProbe probe = start(without(off))) {
        probe.watchPort(server.getLocalPort());
        probe.adoptExisting(true);
        probe.snapshot(); // adopts it, in the queue
        probe.poll(100);
        assertThat(records).as("no open record before anyone holds it")
            .noneMatch(r -> r.type() == ConnEventType.OPEN && r.localPort() == server.getLocalPort());
        assertThat(probe.trackedConnections()).isEqualTo(1);
        try (Socket accepted = server.accept()) {
          accepted.getInputStream().readNBytes(7);
          probe.snapshot(); // the fallback: a live read attributes it by inode when no hook did
          List<ConnRecord> open = await(probe, r -> r.type() == ConnEventType.OPEN
              && r.localPort() == server.getLocalPort(), 1);
          assertThat(open).singleElement().satisfies(r -> {
            assertThat(r.preexisting()).isTrue();
            assertThat(r.pid() == ProcessHandle.current().pid() || r.sockInode() > 0)
                .as("attributed to this process, or carrying the inode that names it: %s", r).isTrue();
          });
        }
      }
    }
  }

  /**
   * The client ends of connections to a watched port on this host that predate tracking are
   * reported as candidates (never adopted on their own: a local proxy's would count twice), and
   * adopted as client ends by the next pass once the caller asks, with exact bytes from then on.
   */
  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter"})
  void clientEndsOnThisHostAreCandidatesAndAdoptedWhenAsked(String off) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, V4)) {
      List<Socket> clients = new ArrayList<>();
      List<Socket> accepted = new ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          clients.add(new Socket(V4, server.getLocalPort()));
          accepted.add(server.accept());
        }
        try (ConnectionProbe probe = start(without(off))) {
          probe.watchPort(server.getLocalPort());
          probe.adoptExisting(true);
          LiveSnapshot first = probe.snapshot(); // adopts the 10 server ends, reports the 10 client ends
          assertThat(first.clientCandidates()).hasSize(10).allSatisfy(c -> {
            assertThat(c.remote().getPort()).isEqualTo(server.getLocalPort());
            assertThat(c.sockInode()).isPositive();
          });
          assertThat(first.clientCandidates()).extracting(c -> c.local().getPort())
              .containsExactlyInAnyOrderElementsOf(clients.stream().map(Socket::getLocalPort).toList());
          List<ConnRecord> servers = await(probe, r -> r.type() == ConnEventType.OPEN && r.localPort() == server.getLocalPort(), 10);
          assertThat(servers).allSatisfy(r -> assertThat(r.side()).isEqualTo(ConnSide.SERVER));
          // a pass without asking adopts nothing more
          probe.snapshot();
          assertThat(probe.trackedConnections()).isEqualTo(10);
          // adopt the first five client ends
          var five = first.clientCandidates().stream().filter(c -> clients.subList(0, 5).stream()
              .anyMatch(s -> s.getLocalPort() == c.local().getPort())).toList();
          assertThat(five).hasSize(5);
          five.forEach(c -> probe.adoptClient(c.cookie()));
          LiveSnapshot second = probe.snapshot();
          assertThat(second.clientCandidates()).as("the other five, still untracked").hasSize(5);
          List<ConnRecord> adopted = await(probe, r -> r.type() == ConnEventType.OPEN && r.remotePort() == server.getLocalPort(), 5);
          assertThat(adopted).allSatisfy(r -> {
            assertThat(r.side()).isEqualTo(ConnSide.CLIENT);
            assertThat(r.preexisting()).isTrue();
          });
          assertThat(adopted).extracting(ConnRecord::localPort)
              .containsExactlyInAnyOrderElementsOf(clients.subList(0, 5).stream().map(Socket::getLocalPort).toList());
          assertThat(probe.trackedConnections()).isEqualTo(15);
          for (int i = 0; i < 5; i++) {
            clients.get(i).getOutputStream().write(new byte[100 + i]);
            accepted.get(i).getInputStream().readNBytes(100 + i);
            clients.get(i).close();
            accepted.get(i).close();
          }
          List<ConnRecord> closes = await(probe, r -> r.type() == ConnEventType.CLOSE && r.side() == ConnSide.CLIENT
              && r.remotePort() == server.getLocalPort(), 5);
          assertThat(closes.stream().mapToLong(ConnRecord::bytesAcked).sum()).as("sent by the client ends")
              .isEqualTo(100 + 101 + 102 + 103 + 104);
        }
      } finally {
        for (Socket s : clients) {
          s.close();
        }
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter"})
  void aClientWhoseLocalPortNumberIsAWatchedOneIsNotAdoptedAsAServerEnd(String off) throws Exception {
    // bind(127.0.0.3, 0) may pick the number of a port listened on 127.0.0.1 only: that client
    // end is established on a watched port number too, but it was never accepted
    try (ServerSocket server = new ServerSocket(0, 10, V4); Socket client = new Socket()) {
      client.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.3"), server.getLocalPort()));
      client.connect(server.getLocalSocketAddress(), 5_000);
      try (Socket accepted = server.accept(); ConnectionProbe probe = start(without(off))) {
        probe.watchPort(server.getLocalPort());
        probe.adoptExisting(true);
        probe.snapshot(); // adopts

        List<ConnRecord> opens = await(probe, r -> r.type() == ConnEventType.OPEN
            && r.localPort() == server.getLocalPort(), 2);

        assertThat(opens).singleElement().satisfies(r -> {
          assertThat(r.side()).isEqualTo(ConnSide.SERVER);
          assertThat(r.localAddress()).isEqualTo(V4);
          assertThat(r.remoteAddress()).isEqualTo(InetAddress.getByName("127.0.0.3"));
          assertThat(r.preexisting()).isTrue();
        });
        assertThat(probe.trackedConnections()).isEqualTo(1);
      }
    }
  }

  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter"})
  void connectionsOpenBeforeTheProbeAreAdoptedAndCountedFromThen(String off) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 200, V4)) {
      List<Socket> clients = new ArrayList<>();
      List<Socket> accepted = new ArrayList<>();
      try {
        for (int i = 0; i < 100; i++) {
          clients.add(new Socket(V4, server.getLocalPort()));
          accepted.add(server.accept());
          clients.get(i).getOutputStream().write(new byte[10]); // traffic before the probe
          accepted.get(i).getInputStream().readNBytes(10);
        }
        try (ConnectionProbe probe = start(without(off))) {
          probe.watchPort(server.getLocalPort());
          probe.adoptExisting(true);
          LiveSnapshot first = probe.snapshot(); // adopts
          List<ConnRecord> opens = await(probe, r -> r.type() == ConnEventType.OPEN && r.localPort() == server.getLocalPort(), 100);
          assertThat(opens).hasSize(100).allSatisfy(r -> {
            assertThat(r.preexisting()).isTrue();
            assertThat(r.sockInode()).isPositive();
          });
          assertThat(opens.stream().map(ConnRecord::sockInode).distinct()).hasSize(100);
          assertThat(first.connections()).isEmpty(); // adopted during this pass, reported from the next

          for (int i = 0; i < 100; i++) {
            clients.get(i).getOutputStream().write(new byte[i + 1]);
            accepted.get(i).getInputStream().readNBytes(i + 1);
          }
          LiveSnapshot later = probe.snapshot();
          assertThat(later.connections()).hasSize(100);
          assertThat(later.connections().stream().mapToLong(LiveConn::bytesReceived).sum()).isEqualTo(5050);

          for (int i = 0; i < 100; i++) {
            clients.get(i).close();
            accepted.get(i).close();
          }
          List<ConnRecord> closes = await(probe, r -> r.type() == ConnEventType.CLOSE && r.localPort() == server.getLocalPort(), 100);
          assertThat(closes).hasSize(100).allSatisfy(r -> assertThat(r.preexisting()).isTrue());
          assertThat(closes.stream().mapToLong(ConnRecord::bytesReceived).sum()).isEqualTo(5050);
          assertThat(probe.trackedConnections()).isZero();
        }
      } finally {
        for (Socket s : clients) {
          s.close();
        }
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  @Test
  void readsBetweenFullWalksSeeTheMarkedSocketsOnly() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try (ConnectionProbe probe = start(ConnectionProbe.Options.defaults());
        ServerSocket watched = new ServerSocket(0, 50, V4);
        ServerSocket unwatched = new ServerSocket(0, 50, V4)) {
      probe.watchPort(watched.getLocalPort());
      for (int i = 0; i < 5; i++) {
        sockets.add(new Socket(V4, watched.getLocalPort()));
        sockets.add(watched.accept());
        sockets.add(new Socket(V4, unwatched.getLocalPort()));
        sockets.add(unwatched.accept());
      }
      // where the kernel refuses the tracked-sockets iterator every read is the full walk, with
      // the same result
      boolean tracked = probe.has(KernelFeature.TRACKED_ITER);
      LiveSnapshot full = probe.snapshot();
      assertThat(probe.lastPassFull).isTrue();
      LiveSnapshot marked = probe.snapshot();
      assertThat(probe.lastPassFull).as("no watch change: the second read walks the marked sockets").isEqualTo(!tracked);
      assertThat(cookies(marked)).hasSize(5).isEqualTo(cookies(full));
      assertThat(ports(marked)).containsExactly(watched.getLocalPort()).isEqualTo(ports(full));

      // connections tracked after the full walk are marked by sock_ops, closed ones unmarked
      for (int i = 0; i < 3; i++) {
        sockets.add(new Socket(V4, watched.getLocalPort()));
        sockets.add(watched.accept());
      }
      sockets.get(0).close();
      sockets.get(1).close();
      Thread.sleep(100);
      LiveSnapshot later = probe.snapshot();
      assertThat(probe.lastPassFull).isEqualTo(!tracked);
      assertThat(later.connections()).as("5 + 3 - 1 closed, none of the unwatched port")
          .hasSize(7).allMatch(c -> c.state() == 1 /* ESTABLISHED */);
      assertThat(ports(later)).containsExactly(watched.getLocalPort());

      probe.unwatchPort(watched.getLocalPort());
      LiveSnapshot afterUnwatch = probe.snapshot();
      assertThat(probe.lastPassFull).as("a watch change forces the full walk").isTrue();
      assertThat(afterUnwatch.listeners()).isEmpty();
      assertThat(probe.snapshot().listeners()).as("a marked listener of an unwatched port").isEmpty();
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  private static java.util.Set<Long> cookies(LiveSnapshot s) {
    return s.connections().stream().map(LiveConn::cookie).collect(java.util.stream.Collectors.toSet());
  }

  private static List<Integer> ports(LiveSnapshot s) {
    return s.listeners().stream().map(ListenerState::port).toList();
  }

  @ParameterizedTest(name = "without [{0}]")
  @ValueSource(strings = {"", "tracked_iter"})
  void connectionsBeyondTheBudgetAreCountedOnceHoweverOftenTheyAreWalked(String off) throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try (ServerSocket server = new ServerSocket(0, 50, V4)) {
      try {
        for (int i = 0; i < 4; i++) { // older than the probe: met by the iterator's adoption
          sockets.add(new Socket(V4, server.getLocalPort()));
          sockets.add(server.accept());
        }
        try (ConnectionProbe probe = start(without(off).withMaxConnections(5))) {
          probe.watchPort(server.getLocalPort());
          for (int i = 0; i < 8; i++) { // 5 tracked by sock_ops, 3 over the budget
            sockets.add(new Socket(V4, server.getLocalPort()));
            sockets.add(server.accept());
          }
          probe.adoptExisting(true);
          for (int i = 0; i < 2 * ConnectionProbe.FULL_PASS_EVERY + 1; i++) {
            probe.snapshot(); // every walk meets the 7 untracked connections again
          }
          assertThat(probe.trackedConnections()).isEqualTo(5);
          assertThat(probe.drops()).as("each untracked connection once, whatever the number of walks")
              .containsEntry(DropReason.CONN_MAP_FULL, 3L + 4L);
        }
      } finally {
        for (Socket s : sockets) {
          s.close();
        }
      }
    }
  }

  @Test
  void aTinyRingBufferCountsExactlyTheRecordsItLost() throws Exception {
    var options = ConnectionProbe.Options.defaults().withRingBufferBytes(4096);
    try (ConnectionProbe probe = start(options); var server = new dev.wmscope.loader.testing.LoopbackTraffic.Server(V4)) {
      probe.watchPort(server.port());
      int n = 300;
      dev.wmscope.loader.testing.LoopbackTraffic.exchanges(V4, server.port(), n, 10, 1); // no polling meanwhile
      Thread.sleep(300);
      while (probe.poll(50) > 0) {
        // drain
      }
      long received = records.stream().filter(r -> r.localPort() == server.port()).count();
      long dropped = probe.drops().get(DropReason.RINGBUF_FULL);
      assertThat(dropped).isPositive();
      assertThat(received + dropped).as("records received + counted drops").isEqualTo(2L * n);
    }
  }
}
