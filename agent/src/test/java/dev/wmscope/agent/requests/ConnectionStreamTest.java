package dev.wmscope.agent.requests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.DataRecord;
import dev.wmscope.otel.HttpExchange;
import dev.wmscope.otel.WebSocketOpcode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Framing from data records as the kernel makes them: each read or send with its stream offset,
 * its length and only its first {@code budget} bytes. Every case knows the exact requests.
 */
class ConnectionStreamTest {
  private static final int BUDGET = 4096;

  /** One connection's two streams, cut into reads and sends as the test says. */
  private final class Wire implements ConnectionStream.Sink {
    final List<ConnectionStream.Request> exchanges = new ArrayList<>();
    final List<String> messages = new ArrayList<>();
    final ConnectionStream stream = new ConnectionStream(this, RequestTracker.MAX_TARGET);
    long rxOff;
    long txOff;
    long mono = 1_000;
    int budget = BUDGET;
    boolean adopted;

    int active;

    @Override
    public void started(ConnectionStream.Request r) {
      active++;
    }

    @Override
    public void exchange(ConnectionStream.Request r) {
      exchanges.add(r);
      active--;
    }

    @Override
    public void abandoned(ConnectionStream.Request r) {
      active--;
    }

    @Override
    public void message(boolean received, WebSocketOpcode op, long payloadBytes, long monoNanos) {
      messages.add((received ? "rx " : "tx ") + op.value() + " " + payloadBytes);
    }

    Wire read(byte[] b) {
      stream.feed(record(false, rxOff, b));
      rxOff += b.length;
      return this;
    }

    Wire send(byte[] b) {
      stream.feed(record(true, txOff, b));
      txOff += b.length;
      return this;
    }

    Wire read(String s) {
      return read(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    Wire send(String s) {
      return send(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Skips {@code n} bytes of a direction, as a lost record would. */
    Wire loseRead(int n) {
      rxOff += n;
      return this;
    }

    private DataRecord record(boolean send, long off, byte[] b) {
      mono += 1_000;
      return new DataRecord(7, mono, off, b.length, 42, send, false, false, adopted,
          Arrays.copyOf(b, Math.min(b.length, budget)));
    }

    List<String> summary() {
      return exchanges.stream().map(r -> r.method + " " + r.target + " " + r.status
          + (r.errorType == null ? "" : " " + r.errorType)).toList();
    }
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: example.test\r\nUser-Agent: wrk\r\n\r\n";
  }

  private static String response(int status, String body) {
    return "HTTP/1.1 " + status + " X\r\nServer: workerman\r\nConnection: keep-alive\r\nContent-Length: "
        + body.length() + "\r\n\r\n" + body;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void keepAliveRequestsPairInOrderWithTheirTimes() {
    Wire w = new Wire();
    for (int i = 0; i < 5; i++) {
      w.read(get("/users/" + i)).send(response(200 + i, "hello"));
    }
    assertThat(w.summary()).containsExactly("GET /users/0 200", "GET /users/1 201", "GET /users/2 202",
        "GET /users/3 203", "GET /users/4 204");
    ConnectionStream.Request first = w.exchanges.getFirst();
    assertThat(first.startMono).isEqualTo(2_000);
    assertThat(first.firstByteMono).isEqualTo(3_000);
    assertThat(first.endMono).isEqualTo(3_000);
    assertThat(first.host).isEqualTo("example.test");
    assertThat(first.userAgent).isEqualTo("wrk");
    assertThat(first.version).isEqualTo("1.1");
    assertThat(first.requestBody).isZero();
    assertThat(first.responseBody).isEqualTo(5);
  }

  @Test
  void pipelinedRequestsInOneReadAndResponsesCoalescedInOneSendAreEachCounted() {
    Wire w = new Wire();
    w.read(get("/a") + "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + get("/c"));
    w.send(response(200, "one") + response(201, "two!") + response(404, ""));
    assertThat(w.summary()).containsExactly("GET /a 200", "POST /b 201", "GET /c 404");
    assertThat(w.exchanges.get(1).requestBody).isEqualTo(5);
    assertThat(w.exchanges.get(1).responseBody).isEqualTo(4);
  }

  @Test
  void aRequestSplitOverSeveralReadsIsOneRequest() {
    Wire w = new Wire();
    String req = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
    w.read(req.substring(0, 7)).read(req.substring(7, 30)).read(req.substring(30, 52)).read(req.substring(52));
    w.send(response(200, "ok"));
    assertThat(w.summary()).containsExactly("POST /upload 200");
    assertThat(w.exchanges.getFirst().startMono).as("the read of the first byte").isEqualTo(2_000);
    assertThat(w.exchanges.getFirst().requestBody).isEqualTo(10);
  }

  @Test
  void largeBodiesAreSkippedByLengthUnseenAndTheNextRequestsStillPair() {
    Wire w = new Wire();
    String mib = "x".repeat(1 << 20);
    w.read(get("/big"));
    byte[] whole = ascii(response(200, mib));
    // Workerman: headers and body in one send when the buffer has room; here the kernel took it
    // in three parts (the writable handler sends the rest)
    w.send(Arrays.copyOfRange(whole, 0, 300_000)).send(Arrays.copyOfRange(whole, 300_000, 900_000))
        .send(Arrays.copyOfRange(whole, 900_000, whole.length));
    w.read("POST /in HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + "y".repeat(100_000)).read("y".repeat(100_000));
    w.send(response(201, "done"));
    assertThat(w.summary()).containsExactly("GET /big 200", "POST /in 201");
    assertThat(w.exchanges.getFirst().responseBody).isEqualTo(1 << 20);
    assertThat(w.exchanges.getFirst().endMono).as("the send of the last byte").isEqualTo(5_000);
    assertThat(w.exchanges.get(1).requestBody).isEqualTo(200_000);
    assertThat(w.stream.losses().desyncs).isZero();
  }

  @Test
  void chunkedResponsesEndAtTheLastChunkWhateverTheSends() {
    Wire w = new Wire();
    w.read(get("/stream"));
    w.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    w.send("5\r\nhello\r\n");
    w.send("1a;ext=1\r\n" + "z".repeat(26) + "\r\n");
    assertThat(w.exchanges).isEmpty();
    w.send("0\r\n\r\n");
    w.read(get("/next")).send(response(200, "n"));
    assertThat(w.summary()).containsExactly("GET /stream 200", "GET /next 200");
    assertThat(w.exchanges.getFirst().responseBody).isEqualTo(5 + 26);
    assertThat(w.exchanges.getFirst().endMono).isEqualTo(6_000);
  }

  /** Workerman 5.2 accepts chunked request bodies (Http::inputChunked); a client streaming an upload sends them. */
  @Test
  void chunkedRequestBodiesEndAtTheLastChunkAndTheNextRequestFollows() {
    Wire w = new Wire();
    w.read("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n");
    w.read("5\r\npedia\r\n").read("0\r\nX-Trailer: 1\r\n\r\n" + get("/after"));
    w.send(response(200, "stored")).send(response(200, "next"));
    assertThat(w.summary()).containsExactly("POST /upload 200", "GET /after 200");
    assertThat(w.exchanges.getFirst().requestBody).isEqualTo(9);
    assertThat(w.stream.losses().desyncs).isZero();
  }

  @Test
  void headRequestsAnd204And304HaveNoBodyWhateverTheirContentLength() {
    Wire w = new Wire();
    w.read("HEAD / HTTP/1.1\r\n\r\n").send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    w.read(get("/nc")).send("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n");
    w.read(get("/after")).send(response(200, "ok"));
    assertThat(w.summary()).containsExactly("HEAD / 200", "GET /nc 304", "GET /after 200");
  }

  @Test
  void aConnectionClosedBeforeTheResponseOrDuringItEndsItsRequestsWithTheReason() {
    Wire w = new Wire();
    w.read(get("/slow"));
    assertThat(w.active).isEqualTo(1);
    w.stream.closed(99_000);
    assertThat(w.active).isZero();
    assertThat(w.summary()).containsExactly("GET /slow 0 " + HttpExchange.CONNECTION_CLOSED);
    assertThat(w.exchanges.getFirst().endMono).isEqualTo(99_000);

    Wire t = new Wire();
    t.read(get("/cut")).send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(400));
    t.stream.closed(99_000);
    assertThat(t.summary()).containsExactly("GET /cut 200 " + HttpExchange.RESPONSE_TRUNCATED);

    Wire u = new Wire();
    u.read("GET /old HTTP/1.0\r\n\r\n").send("HTTP/1.0 200 OK\r\n\r\nbody until close");
    u.stream.closed(99_000);
    assertThat(u.summary()).as("a response framed by the close is complete").containsExactly("GET /old 200");
    assertThat(u.exchanges.getFirst().responseBody).isEqualTo(16);
  }

  @Test
  void aBadRequestLineIsKeptForWorkermans400() {
    Wire w = new Wire();
    w.read("garbage\r\n\r\n").send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    assertThat(w.summary()).containsExactly("null null 400");
  }

  @Test
  void anAdoptedConnectionResyncsAtTheNextRequestAndCountsNothingBefore() {
    Wire w = new Wire();
    w.adopted = true; // offsets start where tracking began, mid-body here
    w.rxOff = 12_345;
    w.txOff = 777;
    w.read("rest of some body").send("tail of a response");
    w.read(get("/after-adoption")).send(response(200, "ok"));
    assertThat(w.summary()).containsExactly("GET /after-adoption 200");
  }

  @Test
  void aLostRecordDesyncsOnlyUntilTheNextMessageStartAndNothingIsMispaired() {
    Wire w = new Wire();
    w.read(get("/1")).send(response(200, "a"));
    w.loseRead(get("/2").length()); // the ring buffer was full: /2 never seen
    w.send(response(200, "b"));     // its response: sent before the resync, unmatched
    w.read(get("/3")).send(response(203, "c"));
    assertThat(w.summary()).containsExactly("GET /1 200", "GET /3 203");
    assertThat(w.stream.losses().desyncs).isEqualTo(1);
    assertThat(w.stream.losses().unmatchedResponses).isEqualTo(1);
    assertThat(w.active).as("every started request ended or was abandoned").isZero();
  }

  @Test
  void aResponseHeadBeyondTheCaptureIsCountedAndTheNextOnePairs() {
    Wire w = new Wire();
    w.budget = 1000;
    String big = "b".repeat(5000);
    // pipelined: the second response starts 5,000 bytes into one coalesced send, past the budget
    w.read(get("/x") + get("/y"));
    w.send(response(200, big) + response(201, "y"));
    w.read(get("/z")).send(response(202, "z"));
    assertThat(w.summary()).containsExactly("GET /x 200", "GET /z 202");
    assertThat(w.stream.losses().unmatchedRequests).as("/y").isEqualTo(1);
    assertThat(w.active).isZero();
  }

  @Test
  void pipelinedRequestsBeyondTheCaptureAreNotMispaired() {
    Wire w = new Wire();
    w.budget = 100;
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      many.append(get("/p" + i));
    }
    w.read(many.toString());
    for (int i = 0; i < 10; i++) {
      w.send(response(200, "r" + i));
    }
    w.read(get("/later")).send(response(200, "l"));
    assertThat(w.summary()).endsWith("GET /later 200").doesNotContain("GET /p9 200");
    assertThat(w.active).isZero();
    for (ConnectionStream.Request r : w.exchanges) {
      assertThat(r.endMono).isGreaterThan(r.startMono);
    }
  }

  @Test
  void anAdoptedConnectionWhoseFirstRecordStartsARequestResyncsAtOnce() {
    Wire w = new Wire();
    w.adopted = true;
    w.read(get("/first")).send(response(200, "ok"));
    assertThat(w.summary()).containsExactly("GET /first 200");
  }

  @Test
  void tlsIsOpaque() {
    Wire w = new Wire();
    w.read(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00}).send(new byte[] {0x16, 0x03, 0x03, 0, 1});
    w.read(get("/looks-like-http-but-is-inside-tls")).send(response(200, "x"));
    assertThat(w.exchanges).isEmpty();
    assertThat(w.stream.losses().tls).isTrue();
  }

  // --- WebSocket ----------------------------------------------------------------------------

  private static byte[] frame(int opcode, boolean fin, int size, boolean masked) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write((fin ? 0x80 : 0) | opcode);
    int m = masked ? 0x80 : 0;
    if (size < 126) {
      out.write(m | size);
    } else if (size < 65536) {
      out.write(m | 126);
      out.write(size >> 8);
      out.write(size & 0xff);
    } else {
      out.write(m | 127);
      for (int i = 7; i >= 0; i--) {
        out.write((int) ((long) size >> (8 * i)) & 0xff);
      }
    }
    if (masked) {
      out.writeBytes(new byte[] {1, 2, 3, 4});
    }
    out.writeBytes(new byte[size]);
    return out.toByteArray();
  }

  @Test
  void webSocketMessagesOfEveryLengthFormBothDirectionsFragmentsAndControlFrames() {
    Wire w = new Wire();
    w.read("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    // Workerman's answer; a first server frame coalesced into the same send
    w.send(concat(ascii("HTTP/1.1 101 Switching Protocol\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), frame(1, true, 5, false)));
    w.read(frame(1, true, 10, true)).send(frame(1, true, 10, false));
    w.read(concat(frame(2, true, 300, true), frame(2, true, 70_000, true))); // 16- and 64-bit lengths, one read
    w.send(frame(2, true, 300, false)).send(frame(2, true, 70_000, false));
    w.read(concat(frame(1, false, 100, true), frame(0, false, 50, true)));
    w.read(concat(frame(9, true, 4, true), frame(0, true, 25, true))); // a ping between fragments
    w.send(frame(10, true, 4, false));
    w.read(frame(8, true, 2, true)).send(new byte[] {(byte) 0x88, 0x02, 0x03, (byte) 0xe8});
    assertThat(w.summary()).containsExactly("GET /chat 101");
    assertThat(w.messages).containsExactly("tx text 5", "rx text 10", "tx text 10", "rx binary 300",
        "rx binary 70000", "tx binary 300", "tx binary 70000", "rx ping 4", "rx text 175", "tx pong 4",
        "rx close 2", "tx close 2");
  }

  @Test
  void aWebSocketFrameHeaderSplitAcrossReadsIsRead() {
    Wire w = new Wire();
    w.read("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
        .send("HTTP/1.1 101 Switching Protocol\r\nUpgrade: websocket\r\n\r\n");
    byte[] f = frame(2, true, 1000, true);
    w.read(Arrays.copyOfRange(f, 0, 3)).read(Arrays.copyOfRange(f, 3, 7)).read(Arrays.copyOfRange(f, 7, f.length));
    assertThat(w.messages).containsExactly("rx binary 1000");
  }

  @Test
  void headersAreReadWhateverTheirCaseAndSpacesAndEachHeadHasItsOwnValues() {
    Wire w = new Wire();
    w.read("PROPFIND /dav HTTP/1.0\r\nhOsT:  a.example \r\nUSER-AGENT:\tcurl/8\r\n"
        + "Traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: k=v\r\n\r\n");
    w.send("HTTP/1.1 207 Multi-Status\r\ncontent-LENGTH: 3\r\n\r\nabc");
    // the same connection, another host and no user agent: nothing carries over from the last head
    w.read("POST /u HTTP/1.1\r\nHost: b.example\r\nContent-Length: 4\r\n\r\nbody");
    w.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    // a length that is not a number frames nothing: the response runs to the connection's end
    w.read("GET /x HTTP/1.1\r\nHost: b.example\r\n\r\n");
    w.send("HTTP/1.1 200 OK\r\nContent-Length: +7\r\n\r\n1234567");
    assertThat(w.exchanges).hasSize(2);
    ConnectionStream.Request dav = w.exchanges.get(0);
    assertThat(List.of(dav.method, dav.target, dav.version, dav.host, dav.userAgent, dav.tracestate))
        .containsExactly("PROPFIND", "/dav", "1.0", "a.example", "curl/8", "k=v");
    assertThat(dav.traceparent).isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assertThat(dav.status).isEqualTo(207);
    assertThat(dav.responseBody).isEqualTo(3);
    ConnectionStream.Request post = w.exchanges.get(1);
    assertThat(List.of(post.method, post.version, post.host)).containsExactly("POST", "1.1", "b.example");
    assertThat(post.userAgent).isNull();
    assertThat(post.traceparent).isNull();
    assertThat(post.requestBody).isEqualTo(4);
    assertThat(post.responseBody).as("chunk data only").isEqualTo(2);
    assertThat(w.active).as("the third response has no end yet").isEqualTo(1);
  }

  @Test
  void aRequestLineWithMoreOrFewerThanThreePartsOrALowerCaseMethodIsNotARequest() {
    for (String line : List.of("GET /a b HTTP/1.1", "GET /a", "get /a HTTP/1.1", "GET  HTTP/1.1", "GET /a HTTP/2.0")) {
      Wire w = new Wire();
      w.read(line + "\r\nHost: h\r\n\r\n").send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      assertThat(w.exchanges).as(line).singleElement().satisfies(r -> {
        assertThat(r.method).isNull();
        assertThat(r.status).isEqualTo(400);
      });
    }
  }

  @Test
  void aHeadCutAtAnyByteIntoTwoOrThreeReadsIsOneRequest() {
    String req = "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy";
    byte[] all = req.getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 1; i < all.length; i++) {
      for (int j = i; j < all.length; j++) {
        Wire w = new Wire();
        w.read(Arrays.copyOfRange(all, 0, i));
        if (j > i) {
          w.read(Arrays.copyOfRange(all, i, j));
        }
        w.read(Arrays.copyOfRange(all, j, all.length));
        w.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(w.summary()).as("cut at %d and %d", i, j).containsExactly("GET /a 200");
        assertThat(w.exchanges.getFirst().requestBody).isEqualTo(2);
      }
    }
  }
}
