package dev.wmscope.agent.requests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HttpExchange;
import dev.wmscope.otel.WebSocketOpcode;
import dev.wmscope.otel.WorkerIdentity;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Per-worker request figures over the last minute, and the list of slow or failed requests. */
class RequestStatsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
  private final RequestStats stats = new RequestStats(now::get);

  private static ConnectionEvent conn(long pid) {
    return new ConnectionEvent(ConnectionEvent.Side.SERVER, false, "127.0.0.1", 8080, "10.1.2.3", 40000, 1, 0, 0, 0,
        0, 0, 0, 0, pid, "php", new WorkerIdentity("Api", "http://0.0.0.0:8080", 1, "/srv/start.php", "worker"),
        false);
  }

  private void request(long pid, int status, long millis) {
    stats.exchange(new HttpExchange(conn(pid), "GET", "/p?q=1", "1.1", status, 0, 0, millis * 1_000_000, 0, 0,
        null, null, null, null, null));
  }

  @Test
  void ratesPercentilesAndErrorsPerWorkerOverTheWindow() {
    for (int s = 0; s < 20; s++) { // 20 s, 10 requests a second, one 5xx a second
      for (int i = 0; i < 10; i++) {
        request(7, i == 0 ? 500 : 200, i == 9 ? 200 : 10);
      }
      stats.webSocketMessage(conn(7), true, WebSocketOpcode.TEXT, 5);
      now.addAndGet(1_000_000_000L);
    }
    RequestStats.Worker w = stats.snapshot().workers().get(7L);
    assertThat(w.requests()).isEqualTo(200);
    assertThat(w.errors5xx()).isEqualTo(20);
    assertThat(w.messages()).isEqualTo(20);
    assertThat(w.requestsPerSec()).isBetween(9.0, 11.0);
    assertThat(w.errors5xxPerSec()).isBetween(0.9, 1.1);
    assertThat(w.p50Millis()).isBetween(9.0, 11.0);
    assertThat(w.p99Millis()).isBetween(180.0, 220.0);
    assertThat(w.workerName()).isEqualTo("Api");
  }

  @Test
  void aWorkerIdleForMoreThanTheWindowHasNoRateButKeepsItsTotals() {
    request(8, 200, 5);
    now.addAndGet(120_000_000_000L);
    RequestStats.Worker w = stats.snapshot().workers().get(8L);
    assertThat(w.requests()).isEqualTo(1);
    assertThat(w.requestsPerSec()).isZero();
    assertThat(w.p99Millis()).isZero();
  }

  @Test
  void onlySlowAndFailedRequestsAreListedTheNewestKept() {
    request(9, 200, 5);
    request(9, 503, 5);
    request(9, 200, 1500);
    for (int i = 0; i < RequestStats.RECENT + 10; i++) {
      request(9, 500, 1);
    }
    var recent = stats.snapshot().recent();
    assertThat(recent).hasSize(RequestStats.RECENT);
    assertThat(recent).allSatisfy(r -> assertThat(r.status()).isEqualTo(500));
    assertThat(recent.getFirst().path()).as("the query is not kept").isEqualTo("/p");
    assertThat(recent.getFirst().client()).isEqualTo("10.1.2.3:40000");
  }

  @Test
  void exitedWorkersLeave() {
    request(10, 200, 1);
    request(11, 200, 1);
    stats.retain(pid -> pid == 11);
    assertThat(stats.snapshot().workers()).containsOnlyKeys(11L);
  }
}
