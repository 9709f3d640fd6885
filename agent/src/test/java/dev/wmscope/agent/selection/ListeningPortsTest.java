package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListeningPortsTest {
  @Test
  void parsesListenRowsOnly() {
    var lines = List.of(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0000000000000000 100 0 0 10 0",
        "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4712 1 0000000000000000 20 4 30 10 -1",
        "   2: 00000000:0B5A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4713 1 0000000000000000 100 0 0 10 0");
    assertThat(ListeningPorts.parseListeners(lines)).containsOnly(
        org.assertj.core.api.Assertions.entry(4711L, 8080), org.assertj.core.api.Assertions.entry(4713L, 2906));
  }

  @Test
  void parsesIpv6Rows() {
    var lines = List.of("header",
        "   0: 00000000000000000000000001000000:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0");
    assertThat(ListeningPorts.parseListeners(lines)).containsEntry(999L, 9090);
  }

  @Test
  void findsThisProcessesRealListener() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      var ports = new ListeningPorts(Path.of("/proc")).of(ProcessHandle.current().pid());
      assertThat(ports).contains(s.getLocalPort());
    }
  }

  @Test
  void readsTheTableOfANetworkNamespaceOncePerPass(@org.junit.jupiter.api.io.TempDir Path root) throws IOException {
    String header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    String row = "   0: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 %d 1 0 100 0 0 10 0\n";
    for (int pid : new int[] {11, 12}) {
      Path dir = root.resolve(Integer.toString(pid));
      java.nio.file.Files.createDirectories(dir.resolve("net"));
      java.nio.file.Files.createDirectories(dir.resolve("fd"));
      java.nio.file.Files.createDirectories(dir.resolve("ns"));
      java.nio.file.Files.createSymbolicLink(dir.resolve("ns").resolve("net"), Path.of("net:[4026531840]"));
      java.nio.file.Files.writeString(dir.resolve("net").resolve("tcp"),
          header + String.format(row, 8080, 501) + String.format(row, 8081, 502));
      // pid 11 holds the listener of inode 501, pid 12 that of 502
      java.nio.file.Files.createSymbolicLink(dir.resolve("fd").resolve("3"), Path.of("socket:[" + (490 + pid) + "]"));
    }
    ListeningPorts listening = new ListeningPorts(root);
    listening.newPass();
    assertThat(listening.of(11)).containsExactly(8080);
    // the same namespace: pid 12's ports come from the table already read in this pass
    java.nio.file.Files.writeString(root.resolve("12/net/tcp"), header);
    assertThat(listening.of(12)).containsExactly(8081);
    // a new pass reads the namespace's table again
    listening.newPass();
    assertThat(listening.of(12)).isEmpty();
  }

  @Test
  void goneProcessHasNoPorts() {
    assertThat(new ListeningPorts(Path.of("/proc")).of(Integer.MAX_VALUE)).isEmpty();
  }

  @Test
  void loopbackAndOwnAddressesAreLocal() throws Exception {
    var local = new LocalAddresses();
    assertThat(local.isLocal(InetAddress.getByName("127.0.0.5"))).isTrue();
    assertThat(local.isLocal(InetAddress.getByName("::1"))).isTrue();
    assertThat(local.isLocal(InetAddress.getByName("192.0.2.99"))).isFalse();
  }
}
