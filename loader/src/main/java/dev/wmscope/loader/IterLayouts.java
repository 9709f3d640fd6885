package dev.wmscope.loader;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Java mirrors of the iterator's records ({@code struct wm_live_conn}, {@code struct
 * wm_listener} in bpf/include/wmscope_conn.h) and the parser of a whole iterator pass. A test
 * holds both layouts to the object's BTF.
 */
public final class IterLayouts {
  private IterLayouts() {}

  static final int KIND_CONN = 1;
  static final int KIND_LISTENER = 2;
  static final int KIND_CLIENT_CANDIDATE = 3;

  public static final StructLayout LIVE_CONN = MemoryLayout.structLayout(
      JAVA_INT.withName("kind"),
      JAVA_INT.withName("state"),
      JAVA_LONG.withName("cookie"),
      JAVA_LONG.withName("bytes_received"),
      JAVA_LONG.withName("bytes_acked"),
      JAVA_INT.withName("data_segs_in"),
      JAVA_INT.withName("data_segs_out"),
      JAVA_INT.withName("srtt_us"),
      JAVA_INT.withName("total_retrans"),
      JAVA_INT.withName("rcv_queue"),
      JAVA_INT.withName("snd_queue"),
      JAVA_INT.withName("copied_seq"),
      MemoryLayout.paddingLayout(4).withName("_pad0"));

  public static final StructLayout LISTENER = MemoryLayout.structLayout(
      JAVA_INT.withName("kind"),
      JAVA_SHORT.withName("family"),
      JAVA_SHORT.withName("port"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr"),
      JAVA_INT.withName("accept_queue"),
      JAVA_INT.withName("accept_limit"),
      JAVA_INT.withName("drops"),
      MemoryLayout.paddingLayout(4).withName("_pad0"),
      JAVA_LONG.withName("sock_inode"));

  public static final StructLayout CLIENT_CANDIDATE = MemoryLayout.structLayout(
      JAVA_INT.withName("kind"),
      JAVA_SHORT.withName("family"),
      JAVA_SHORT.withName("local_port"),
      JAVA_LONG.withName("cookie"),
      JAVA_LONG.withName("sock_inode"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("local_addr"),
      MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("remote_addr"),
      JAVA_SHORT.withName("remote_port"),
      MemoryLayout.paddingLayout(2).withName("_pad0"),
      MemoryLayout.paddingLayout(4).withName("_pad1"));

  private static long k(String name) {
    return CLIENT_CANDIDATE.byteOffset(groupElement(name));
  }

  private static long c(String name) {
    return LIVE_CONN.byteOffset(groupElement(name));
  }

  private static long l(String name) {
    return LISTENER.byteOffset(groupElement(name));
  }

  /** Splits one pass into its records; a truncated tail (never expected) is ignored. */
  public static LiveSnapshot parse(byte[] pass, long monoNanos) {
    MemorySegment s = MemorySegment.ofArray(pass);
    List<LiveConn> conns = new ArrayList<>();
    List<ListenerState> listeners = new ArrayList<>();
    List<LiveSnapshot.ClientCandidate> candidates = new ArrayList<>();
    long off = 0;
    var order = ByteOrder.nativeOrder();
    var i32 = JAVA_INT.withOrder(order).withByteAlignment(1);
    var i64 = JAVA_LONG.withOrder(order).withByteAlignment(1);
    var i16 = JAVA_SHORT.withOrder(order).withByteAlignment(1);
    while (off + 4 <= pass.length) {
      int kind = s.get(i32, off);
      if (kind == KIND_CONN && off + LIVE_CONN.byteSize() <= pass.length) {
        long o = off;
        conns.add(new LiveConn(
            s.get(i64, o + c("cookie")),
            s.get(i32, o + c("state")),
            s.get(i64, o + c("bytes_received")),
            s.get(i64, o + c("bytes_acked")),
            Integer.toUnsignedLong(s.get(i32, o + c("data_segs_in"))),
            Integer.toUnsignedLong(s.get(i32, o + c("data_segs_out"))),
            Integer.toUnsignedLong(s.get(i32, o + c("srtt_us"))),
            Integer.toUnsignedLong(s.get(i32, o + c("total_retrans"))),
            Integer.toUnsignedLong(s.get(i32, o + c("rcv_queue"))),
            Integer.toUnsignedLong(s.get(i32, o + c("snd_queue"))),
            Integer.toUnsignedLong(s.get(i32, o + c("copied_seq")))));
        off += LIVE_CONN.byteSize();
      } else if (kind == KIND_LISTENER && off + LISTENER.byteSize() <= pass.length) {
        long o = off;
        int family = Short.toUnsignedInt(s.get(i16, o + l("family")));
        MemorySegment aligned = MemorySegment.ofArray(s.asSlice(o, LISTENER.byteSize()).toArray(JAVA_BYTE));
        listeners.add(new ListenerState(
            ConnEventLayout.address(aligned, l("addr"), family),
            Short.toUnsignedInt(s.get(i16, o + l("port"))),
            Integer.toUnsignedLong(s.get(i32, o + l("accept_queue"))),
            Integer.toUnsignedLong(s.get(i32, o + l("accept_limit"))),
            Integer.toUnsignedLong(s.get(i32, o + l("drops"))),
            s.get(i64, o + l("sock_inode"))));
        off += LISTENER.byteSize();
      } else if (kind == KIND_CLIENT_CANDIDATE && off + CLIENT_CANDIDATE.byteSize() <= pass.length) {
        long o = off;
        int family = Short.toUnsignedInt(s.get(i16, o + k("family")));
        MemorySegment aligned = MemorySegment.ofArray(s.asSlice(o, CLIENT_CANDIDATE.byteSize()).toArray(JAVA_BYTE));
        candidates.add(new LiveSnapshot.ClientCandidate(s.get(i64, o + k("cookie")), s.get(i64, o + k("sock_inode")),
            new java.net.InetSocketAddress(ConnEventLayout.address(aligned, k("local_addr"), family),
                Short.toUnsignedInt(s.get(i16, o + k("local_port")))),
            new java.net.InetSocketAddress(ConnEventLayout.address(aligned, k("remote_addr"), family),
                Short.toUnsignedInt(s.get(i16, o + k("remote_port"))))));
        off += CLIENT_CANDIDATE.byteSize();
      } else {
        break;
      }
    }
    return new LiveSnapshot(monoNanos, conns, listeners, candidates);
  }
}
