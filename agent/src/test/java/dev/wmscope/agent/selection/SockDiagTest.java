package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** sock_diag against the kernel, with /proc/net/tcp{,6} (what it replaces) as the oracle. */
class SockDiagTest {
  @Test
  void listsTheListenersOfThisNamespaceAsProcNetTcpDoesAndNothingElse() throws Exception {
    try (ServerSocket v4 = new ServerSocket();
        ServerSocket v6 = new ServerSocket()) {
      v4.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      v6.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
      try (Socket client = new Socket(InetAddress.getByName("127.0.0.1"), v4.getLocalPort());
          Socket accepted = v4.accept()) {
        Map<Long, Integer> proc = new HashMap<>();
        proc.putAll(ListeningPorts.parseListeners(Files.readAllLines(Path.of("/proc/self/net/tcp"))));
        proc.putAll(ListeningPorts.parseListeners(Files.readAllLines(Path.of("/proc/self/net/tcp6"))));

        Map<Long, Integer> diag = SockDiag.listeners();

        assertThat(diag).containsValues(v4.getLocalPort(), v6.getLocalPort());
        for (int port : new int[] {v4.getLocalPort(), v6.getLocalPort()}) {
          assertThat(inodesOf(diag, port)).as("inode of the listener on %d", port).isEqualTo(inodesOf(proc, port));
        }
        // an established connection is not a listener, whichever end
        assertThat(diag).doesNotContainValue(client.getLocalPort());
        assertThat(inodesOf(diag, v4.getLocalPort())).hasSize(1);
      }
    }
  }

  private static java.util.Set<Long> inodesOf(Map<Long, Integer> table, int port) {
    java.util.Set<Long> out = new java.util.TreeSet<>();
    table.forEach((inode, p) -> {
      if (p == port) {
        out.add(inode);
      }
    });
    return out;
  }
}
