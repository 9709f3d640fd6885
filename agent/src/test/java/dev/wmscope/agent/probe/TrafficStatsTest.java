package dev.wmscope.agent.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.wmscope.otel.CloseCause;
import dev.wmscope.otel.ConnectionEvent;
import org.junit.jupiter.api.Test;

/** Rolling aggregates on a synthetic clock: counters, windowed rates, percentiles, bounds. */
class TrafficStatsTest {
  private static final long S = 1_000_000_000L;
  private static final long T0 = 1_000 * S;

  static ConnectionEvent event(long pid, String peer, int peerPort, boolean preexisting, CloseCause cause, long srtt) {
    return new ConnectionEvent(ConnectionEvent.Side.SERVER, false, "127.0.0.1", 8080, peer, peerPort, 0, 0, 0, 0, 0, 0,
        srtt, 0, pid, "php", null, false, cause, preexisting);
  }

  @Test
  void countsOpensClosesBytesResetsPerOwnerPeerAndHost() {
    TrafficStats s = new TrafficStats(T0, 0);
    ConnectionEvent a = event(10, "10.0.0.1", 1, false, null, 0);
    ConnectionEvent b = event(11, "10.0.0.2", 2, false, null, 0);
    s.opened(a, T0 + S);
    s.opened(b, T0 + S);
    s.live(a, 100, 200, 1, 50, T0 + 2 * S);
    s.closed(event(10, "10.0.0.1", 1, false, CloseCause.RST_RECEIVED, 60), true, 5, 7, 0, T0 + 3 * S);
    TrafficStats.Snapshot snap = s.snapshot(T0 + 3 * S);
    TrafficStats.OwnerStats w10 = snap.owners().get(10L);
    assertThat(w10.active()).isZero();
    assertThat(w10.opened()).isEqualTo(1);
    assertThat(w10.closed()).isEqualTo(1);
    assertThat(w10.bytesIn()).isEqualTo(105);
    assertThat(w10.bytesOut()).isEqualTo(207);
    assertThat(w10.retransmits()).isEqualTo(1);
    assertThat(w10.resets()).isEqualTo(1);
    assertThat(w10.processName()).isEqualTo("php");
    assertThat(snap.owners().get(11L).active()).isEqualTo(1);
    assertThat(snap.total().active()).isEqualTo(1);
    assertThat(snap.total().opened()).isEqualTo(2);
    assertThat(snap.topPeers()).extracting(TrafficStats.PeerStats::address).containsExactly("10.0.0.1", "10.0.0.2");
    assertThat(snap.topPeers().getFirst().bytesIn()).isEqualTo(105);
  }

  @Test
  void adoptedConnectionsAreActiveButNotOpened() {
    TrafficStats s = new TrafficStats(T0, 0);
    s.opened(event(10, "10.0.0.1", 1, true, null, 0), T0);
    TrafficStats.Snapshot snap = s.snapshot(T0 + S);
    assertThat(snap.total().active()).isEqualTo(1);
    assertThat(snap.total().opened()).isZero();
  }

  @Test
  void ratesCoverTheLastTenSecondsOnly() {
    TrafficStats s = new TrafficStats(T0, 0);
    ConnectionEvent a = event(10, "10.0.0.1", 1, false, null, 0);
    s.opened(a, T0);
    // 1000 bytes in every second for 30 s, marks taken each second
    for (int i = 1; i <= 30; i++) {
      s.live(a, 1000, 0, 0, 20, T0 + i * S);
      s.tick(T0 + i * S, i * 1000L, 0, 0);
    }
    TrafficStats.Snapshot snap = s.snapshot(T0 + 30 * S);
    assertThat(snap.windowSeconds()).isEqualTo(10.0);
    assertThat(snap.owners().get(10L).bytesInPerSec()).isCloseTo(1000, within(1.0));
    assertThat(snap.owners().get(10L).bytesIn()).isEqualTo(30_000);
    // one open in the first second: outside the window by now
    assertThat(snap.owners().get(10L).openedPerSec()).isZero();
    assertThat(snap.owners().get(10L).rttP50Micros()).isBetween(19L, 22L); // within the bucket
    // right after start the window is what has passed
    TrafficStats fresh = new TrafficStats(T0, 0);
    fresh.opened(a, T0 + S);
    assertThat(fresh.snapshot(T0 + 2 * S).total().openedPerSec()).isCloseTo(0.5, within(0.01));
  }

  @Test
  void historyKeepsOnePointPerSecondForTenMinutes() {
    TrafficStats s = new TrafficStats(T0, 0);
    ConnectionEvent a = event(10, "10.0.0.1", 1, false, null, 0);
    s.opened(a, T0);
    for (int i = 1; i <= 700 * 4; i++) { // four ticks a second for 700 s
      long now = T0 + i * S / 4;
      s.live(a, 250, 0, 0, 0, now);
      s.tick(now, now / 1_000_000, 3, 100);
    }
    TrafficStats.Snapshot snap = s.snapshot(T0 + 700 * S);
    assertThat(snap.history()).hasSize(TrafficStats.HISTORY_POINTS);
    TrafficStats.HistoryPoint last = snap.history().getLast();
    assertThat(last.active()).isEqualTo(1);
    assertThat(last.bytesInPerSec()).isCloseTo(1000, within(1.0));
    assertThat(last.acceptQueue()).isEqualTo(3);
    assertThat(last.acceptQueueLimit()).isEqualTo(100);
  }

  @Test
  void peersAreBoundedAndIdleOnesGoFirst() {
    TrafficStats s = new TrafficStats(T0, 0);
    ConnectionEvent busy = event(10, "192.168.0.1", 1, false, null, 0);
    s.opened(busy, T0); // stays open: never evicted
    for (int i = 0; i < TrafficStats.MAX_PEERS + 500; i++) {
      ConnectionEvent e = event(10, "10.0." + (i / 250) + "." + (i % 250), 1, false, null, 0);
      s.opened(e, T0 + i);
      s.closed(e, true, 1, 1, 0, T0 + i);
    }
    TrafficStats.Snapshot snap = s.snapshot(T0 + S);
    assertThat(snap.agent().peersTracked()).isLessThanOrEqualTo(TrafficStats.MAX_PEERS);
    assertThat(snap.agent().peersEvicted()).isGreaterThan(0);
    assertThat(snap.total().closed()).isEqualTo(TrafficStats.MAX_PEERS + 500);
    assertThat(snap.topPeers()).hasSizeLessThanOrEqualTo(TrafficStats.TOP_PEERS);
    s.closed(busy, true, 0, 0, 0, T0 + 2 * S);
    assertThat(s.snapshot(T0 + 2 * S).total().active()).isZero();
  }

  @Test
  void peersStayBoundedEvenWhenEveryOneLooksActive() {
    TrafficStats s = new TrafficStats(T0, 0);
    for (int i = 0; i < TrafficStats.MAX_PEERS * 2; i++) {
      s.opened(event(10, "10.1." + (i / 250) + "." + (i % 250), 1, false, null, 0), T0 + i);
    }
    assertThat(s.snapshot(T0 + S).agent().peersTracked()).isLessThanOrEqualTo(TrafficStats.MAX_PEERS);
    assertThat(s.snapshot(T0 + S).total().active()).isEqualTo(TrafficStats.MAX_PEERS * 2);
  }

  @Test
  void selfTelemetryCountsEventsAndLag() {
    TrafficStats s = new TrafficStats(T0, 123);
    s.events(50);
    s.pollLag(20_000_000, T0 + S);
    s.pollLag(5_000_000, T0 + 2 * S);
    s.tick(T0 + 2 * S, 2000, 0, 0);
    TrafficStats.AgentStats a = s.snapshot(T0 + 2 * S).agent();
    assertThat(a.events()).isEqualTo(50);
    assertThat(a.eventsPerSec()).isCloseTo(25, within(0.01));
    assertThat(a.pollLagMillis()).isEqualTo(5.0);
    assertThat(a.pollLagMaxMillis()).isEqualTo(20.0);
    assertThat(a.startedEpochMillis()).isEqualTo(123);
  }
}
