package dev.wmscope.agent.requests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.DataRecord;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HttpExchange;
import dev.wmscope.otel.WebSocketOpcode;
import dev.wmscope.otel.WorkerIdentity;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tracker between batches: identities, closes that come before their last data, sweeps. */
class RequestTrackerTest {
  private final List<HttpExchange> exchanges = new ArrayList<>();
  private final Map<String, Integer> active = new HashMap<>();
  private final Map<Long, ConnectionEvent> open = new HashMap<>();
  private final RequestTracker tracker = new RequestTracker(new MonotonicClock(), new RequestListener() {
    @Override
    public void exchange(HttpExchange x) {
      exchanges.add(x);
    }

    @Override
    public void webSocketMessage(ConnectionEvent c, boolean received, WebSocketOpcode op, long bytes) {}

    @Override
    public Object requestStarted(ConnectionEvent c, String method) {
      String key = c.peerPort() + " " + method;
      active.merge(key, 1, Integer::sum);
      return key;
    }

    @Override
    public void requestEnded(Object started) {
      active.merge((String) started, -1, Integer::sum);
    }
  });
  private final Map<String, Long> offsets = new HashMap<>();
  private long mono = 1_000_000;

  private static ConnectionEvent conn(int peerPort) {
    return new ConnectionEvent(ConnectionEvent.Side.SERVER, false, "127.0.0.1", 8080, "127.0.0.1", peerPort, 1, 0,
        0, 0, 0, 0, 0, 0, 4242, "php", new WorkerIdentity("Api", "http://0.0.0.0:8080", 1, "/srv/start.php", "worker"),
        false);
  }

  private void data(long cookie, boolean send, String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    String key = cookie + (send ? "tx" : "rx");
    long off = offsets.getOrDefault(key, 0L);
    offsets.put(key, off + b.length);
    mono += 1000;
    tracker.data(new DataRecord(cookie, mono, off, b.length, 4242, send, false, false, false, b));
  }

  private void endOfBatch() {
    tracker.endOfBatch(open::get);
  }

  @Test
  void anExchangeGetsTheIdentityOfItsOpenConnection() {
    open.put(1L, conn(50_001));
    data(1, false, "GET / HTTP/1.1\r\n\r\n");
    data(1, true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    endOfBatch();
    assertThat(exchanges).singleElement().satisfies(x -> {
      assertThat(x.connection().peerPort()).isEqualTo(50_001);
      assertThat(x.connection().worker().workerName()).isEqualTo("Api");
      assertThat(x.status()).isEqualTo(200);
      assertThat(x.endEpochNanos()).isGreaterThan(x.startEpochNanos());
    });
    assertThat(tracker.counters().exchanges()).isEqualTo(1);
  }

  @Test
  void aCloseInTheSameBatchStillGivesTheIdentityItClosedWith() {
    data(2, false, "GET /a HTTP/1.1\r\n\r\n");
    data(2, true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    tracker.closed(2, conn(50_002), mono + 10); // LiveState forgot it: only the close event knows
    endOfBatch();
    assertThat(exchanges).singleElement().satisfies(x -> assertThat(x.connection().peerPort()).isEqualTo(50_002));
  }

  @Test
  void dataDrainedAfterItsCloseIsFramedBeforeTheCloseApplies() {
    open.put(3L, conn(50_003));
    data(3, false, "GET /late HTTP/1.1\r\n\r\n");
    endOfBatch();
    tracker.closed(3, conn(50_003), mono + 5_000);
    open.remove(3L);
    endOfBatch(); // the close waits one batch: its last response may be in the other ring's next drain
    assertThat(exchanges).isEmpty();
    data(3, true, "HTTP/1.1 204 No Content\r\n\r\n");
    endOfBatch();
    assertThat(exchanges).singleElement().satisfies(x -> {
      assertThat(x.status()).isEqualTo(204);
      assertThat(x.errorType()).isNull();
    });
    assertThat(tracker.connections()).isZero();
  }

  @Test
  void aRequestStillOpenAtTheCloseEndsAtTheCloseWithTheReason() {
    open.put(4L, conn(50_004));
    data(4, false, "GET /never HTTP/1.1\r\n\r\n");
    endOfBatch();
    long closeAt = mono + 7_000;
    tracker.closed(4, conn(50_004), closeAt);
    endOfBatch();
    endOfBatch();
    assertThat(exchanges).singleElement().satisfies(x -> {
      assertThat(x.errorType()).isEqualTo(HttpExchange.CONNECTION_CLOSED);
      assertThat(x.status()).isZero();
      assertThat(x.responseBodySize()).isEqualTo(-1);
    });
  }

  @Test
  void activeRequestsCountUpAtTheHeadAndDownAtTheAnswerAbandonmentOrSweep() {
    open.put(8L, conn(50_008));
    data(8, false, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    endOfBatch();
    assertThat(active).containsEntry("50008 GET", 2);
    data(8, true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    endOfBatch();
    assertThat(active).containsEntry("50008 GET", 1);
    open.remove(8L); // its close record lost: the sweep drops it
    for (int i = 0; i < 4; i++) {
      endOfBatch();
    }
    tracker.retain(open::containsKey, 3);
    endOfBatch();
    assertThat(active).containsEntry("50008 GET", 0);
  }

  @Test
  void aConnectionWhoseIdentityIsUnknownIsCountedNotReported() {
    data(5, false, "GET / HTTP/1.1\r\n\r\n");
    data(5, true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    for (int i = 0; i <= RequestTracker.IDENTITY_WAIT_BATCHES; i++) {
      endOfBatch();
    }
    assertThat(exchanges).isEmpty();
    assertThat(tracker.counters().unknownConnection()).isEqualTo(1);
  }

  @Test
  void anOpenRecordDrainedAfterTheConnectionsFirstDataStillGivesItsIdentity() {
    // accepted during a drain: its data came in the data ring's pass, its open after the events'
    data(12, false, "GET /early HTTP/1.1\r\n\r\n");
    data(12, true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    endOfBatch();
    assertThat(exchanges).isEmpty();
    open.put(12L, conn(50_012));
    data(12, false, "GET /next HTTP/1.1\r\n\r\n");
    data(12, true, "HTTP/1.1 204 No Content\r\n\r\n");
    endOfBatch();
    assertThat(exchanges).extracting(HttpExchange::target).containsExactly("/early", "/next");
    assertThat(exchanges).allSatisfy(x -> assertThat(x.connection().peerPort()).isEqualTo(50_012));
    assertThat(active).containsEntry("50012 GET", 0);
    assertThat(tracker.counters().unknownConnection()).isZero();
  }

  @Test
  void theSweepDropsIdleStateOfConnectionsThatAreNotOpenAndFoldsTheirCounts() {
    open.put(6L, conn(50_006));
    data(6, false, "GET / HTTP/1.1\r\n\r\n");
    data(7, false, "\u0016\u0003\u0001 tls"); // a TLS client, never closed (its close record lost)
    endOfBatch();
    for (int i = 0; i < 5; i++) {
      endOfBatch();
    }
    tracker.retain(open::containsKey, 3);
    assertThat(tracker.connections()).as("the open one stays").isEqualTo(1);
    assertThat(tracker.counters().tlsConnections()).isEqualTo(1);
  }
}
