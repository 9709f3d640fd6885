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
