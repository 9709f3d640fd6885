package dev.wmscope.agent.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.ConnEventType;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnSide;
import dev.wmscope.otel.CloseCause;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** How kernel close records map to wmscope.close.cause. */
class CloseCauseTest {
  private static final int ESTABLISHED = 1;
  private static final int FIN_WAIT2 = 5;
  private static final int CLOSE_WAIT = 8;
  private static final int LAST_ACK = 9;

  private static ConnRecord close(int flags, int prevState, int skErr) {
    InetAddress lo = InetAddress.getLoopbackAddress();
    return new ConnRecord(ConnEventType.CLOSE, ConnSide.SERVER, flags, 1, 1, 2, lo, 80, lo, 5000, 0, "", 0, 0, 0, 0, 0, 0,
        prevState, skErr, 0);
  }

  @Test
  void normalClosesSayWhoFinishedFirst() {
    assertThat(RecordMapper.closeCause(close(ConnRecord.FLAG_FIN_LOCAL_FIRST, FIN_WAIT2, 0))).isEqualTo(CloseCause.FIN_LOCAL);
    assertThat(RecordMapper.closeCause(close(ConnRecord.FLAG_FIN_PEER_FIRST, LAST_ACK, 0))).isEqualTo(CloseCause.FIN_PEER);
  }

  @Test
  void withoutTransitionFlagsThePreviousStateDecides() {
    assertThat(RecordMapper.closeCause(close(0, FIN_WAIT2, 0))).isEqualTo(CloseCause.FIN_LOCAL);
    assertThat(RecordMapper.closeCause(close(0, LAST_ACK, 0))).isEqualTo(CloseCause.FIN_PEER);
  }

  @Test
  void withoutResetMarksTheSocketErrorAndTheLastStateTellResets() {
    // what the kernel leaves in a close record with or without the reset tracepoints
    // (FeatureFallbackKernelIT, LiveTelemetryKernelIT): an abort by this host goes straight to
    // CLOSE without an error, a reset received leaves ECONNRESET (EPIPE in CLOSE_WAIT)
    assertThat(RecordMapper.closeCause(close(0, ESTABLISHED, 0))).isEqualTo(CloseCause.RST_SENT);
    assertThat(RecordMapper.closeCause(close(ConnRecord.FLAG_FIN_PEER_FIRST, CLOSE_WAIT, 0))).isEqualTo(CloseCause.RST_SENT);
    assertThat(RecordMapper.closeCause(close(0, ESTABLISHED, ConnRecord.ECONNRESET))).isEqualTo(CloseCause.RST_RECEIVED);
    assertThat(RecordMapper.closeCause(close(ConnRecord.FLAG_FIN_PEER_FIRST, CLOSE_WAIT, ConnRecord.EPIPE)))
        .isEqualTo(CloseCause.RST_RECEIVED);
  }

  @Test
  void resetsWinOverFins() {
    int finThenReset = ConnRecord.FLAG_FIN_PEER_FIRST | ConnRecord.FLAG_RST_RECEIVED;
    assertThat(RecordMapper.closeCause(close(finThenReset, ESTABLISHED, 0))).isEqualTo(CloseCause.RST_RECEIVED);
    assertThat(RecordMapper.closeCause(close(ConnRecord.FLAG_RST_SENT, ESTABLISHED, 0))).isEqualTo(CloseCause.RST_SENT);
    assertThat(RecordMapper.closeCause(close(0, ESTABLISHED, ConnRecord.ECONNRESET))).isEqualTo(CloseCause.RST_RECEIVED);
  }

  @Test
  void failedConnectsAreRefusedOrTimedOut() {
    assertThat(RecordMapper.closeCause(close(ConnRecord.FLAG_RST_RECEIVED, ConnRecord.TCP_SYN_SENT, ConnRecord.ECONNREFUSED)))
        .isEqualTo(CloseCause.REFUSED);
    assertThat(RecordMapper.closeCause(close(0, ConnRecord.TCP_SYN_SENT, ConnRecord.ETIMEDOUT))).isEqualTo(CloseCause.TIMEOUT);
    assertThat(RecordMapper.closeCause(close(0, ESTABLISHED, ConnRecord.ETIMEDOUT))).isEqualTo(CloseCause.TIMEOUT);
  }

  @Test
  void openRecordsHaveNoCause() {
    InetAddress lo = InetAddress.getLoopbackAddress();
    var open = new ConnRecord(ConnEventType.OPEN, ConnSide.SERVER, 0, 1, 1, 0, lo, 80, lo, 5000, 0, "", 0, 0, 0, 0, 0, 0, 0, 0, 0);
    assertThat(RecordMapper.closeCause(open)).isNull();
  }
}
