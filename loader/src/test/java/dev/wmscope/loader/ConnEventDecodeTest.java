package dev.wmscope.loader;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Decoding of records as the kernel writes them, including the address and name caches. */
class ConnEventDecodeTest {
  private final Arena arena = Arena.ofAuto();

  private MemorySegment record(int family, byte[] local, byte[] remote, String comm) {
    MemorySegment s = arena.allocate(ConnEventLayout.LAYOUT);
    s.set(ValueLayout.JAVA_INT, off("type"), 2);
    s.set(ValueLayout.JAVA_SHORT, off("family"), (short) family);
    s.set(ValueLayout.JAVA_LONG, off("cookie"), 42);
    MemorySegment.copy(MemorySegment.ofArray(local), 0, s, off("local_addr"), local.length);
    MemorySegment.copy(MemorySegment.ofArray(remote), 0, s, off("remote_addr"), remote.length);
    byte[] name = comm.getBytes(StandardCharsets.UTF_8);
    MemorySegment.copy(MemorySegment.ofArray(name), 0, s, off("comm"), name.length);
    return s;
  }

  private static long off(String member) {
    return ConnEventLayout.LAYOUT.byteOffset(groupElement(member));
  }

  private static byte[] v4(int a, int b, int c, int d) {
    return new byte[] {(byte) a, (byte) b, (byte) c, (byte) d};
  }

  @Test
  void everyDistinctAddressAndNameDecodesToItself() throws Exception {
    // more distinct values than the caches have slots: collisions must never mix them up
    for (int i = 0; i < 3000; i++) {
      byte[] local = v4(10, i >> 8, i & 0xff, 1);
      byte[] remote = v4(192, 168, i >> 8, i & 0xff);
      String comm = "worker-" + i;
      ConnRecord r = ConnEventLayout.decode(record(2, local, remote, comm));
      assertThat(r.localAddress()).isEqualTo(InetAddress.getByAddress(local));
      assertThat(r.remoteAddress()).isEqualTo(InetAddress.getByAddress(remote));
      assertThat(r.comm()).isEqualTo(comm);

      byte[] local6 = InetAddress.getByName("2001:db8::" + Integer.toHexString(i)).getAddress();
      byte[] remote6 = InetAddress.getByName("fd00:" + Integer.toHexString(i) + "::1").getAddress();
      ConnRecord r6 = ConnEventLayout.decode(record(10, local6, remote6, comm));
      assertThat(r6.localAddress()).isEqualTo(InetAddress.getByAddress(local6));
      assertThat(r6.remoteAddress()).isEqualTo(InetAddress.getByAddress(remote6));
    }
  }

  @Test
  void repeatedValuesShareOneInstance() {
    ConnRecord a = ConnEventLayout.decode(record(2, v4(127, 0, 0, 1), v4(127, 0, 0, 9), "php"));
    ConnRecord b = ConnEventLayout.decode(record(2, v4(127, 0, 0, 1), v4(127, 0, 0, 9), "php"));
    assertThat(b.localAddress()).isSameAs(a.localAddress());
    assertThat(b.comm()).isSameAs(a.comm()).isEqualTo("php");
  }

  @Test
  void ipv6AndV4MappedAddresses() throws Exception {
    byte[] v6 = InetAddress.getByName("2001:db8::7").getAddress();
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(v4(127, 0, 0, 1), 0, mapped, 12, 4);
    ConnRecord r = ConnEventLayout.decode(record(10, v6, mapped, ""));
    assertThat(r.localAddress()).isInstanceOf(Inet6Address.class).isEqualTo(InetAddress.getByAddress(v6));
    assertThat(r.remoteAddress()).isInstanceOf(Inet4Address.class).isEqualTo(InetAddress.getByName("127.0.0.1"));
    assertThat(r.comm()).isEmpty();
  }
}
