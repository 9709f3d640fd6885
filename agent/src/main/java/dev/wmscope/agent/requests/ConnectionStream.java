package dev.wmscope.agent.requests;

import dev.wmscope.loader.DataRecord;
import dev.wmscope.otel.WebSocketOpcode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;

/**
 * The HTTP/1.x and WebSocket framing of one captured connection, from its data records: each
 * says how many bytes a read or send moved, where they sit in the direction's stream, and the
 * first of them (at most the capture budget). Message heads must be seen; bodies, chunks and
 * frame payloads are skipped by length without being seen, so keep-alive, pipelining, heads
 * split over several reads, responses coalesced into one send and large bodies frame exactly.
 *
 * <p>When a head lies beyond what was captured (e.g. the 20th pipelined request of one large
 * read) or a record was lost, that direction is out of sync: it resyncs at the next record
 * that starts like a message (a request line, a status line, a plausible frame header), and
 * the requests whose pairing has become ambiguous are counted and dropped, never paired with
 * the wrong response: after the request side resyncs, responses that began before that point
 * are unmatched; after the response side resyncs, its response is paired only if exactly one
 * request is outstanding (Workerman answers in order, so that one is certain). A connection
 * that starts out of sync (adopted mid-stream) resyncs the same way.
 *
 * <p>Not thread-safe: the poll thread feeds it.
 */
final class ConnectionStream {
  /** Workerman refuses heads larger than this (431). */
  static final int MAX_HEAD = 16 * 1024;
  /** Requests read but not answered yet (pipelining) kept per connection. */
  static final int MAX_PENDING = 256;
  private static final int MAX_LINE = 1024;

  /** Where framed requests and messages go (times are CLOCK_MONOTONIC nanoseconds). */
  interface Sink {
    /** A request's head was read (it is active until its exchange or its abandonment). */
    void started(Request r);

    void exchange(Request r);

    /** A request that will not be reported: its response cannot be told for certain. */
    void abandoned(Request r);

    void message(boolean received, WebSocketOpcode op, long payloadBytes, long monoNanos);
  }

  /** What this connection lost, for the tracker's counters. */
  static final class Losses {
    long desyncs;
    long unmatchedRequests;
    long unmatchedResponses;
    boolean tls;
  }

  /** A request read from the client, and what was seen of its response so far. */
  static final class Request {
    String method; // null when the request line was not valid HTTP
    String target;
    String version;
    String host;
    String userAgent;
    String traceparent;
    String tracestate;
    boolean upgradeWebsocket;
    long startMono;
    long requestBody = -1;
    int status;
    long firstByteMono;
    long responseBody = -1;
    long endMono;
    String errorType;
    /** What the listener returned when its start was counted (active requests), null until then. */
    Object countedAs;
  }

  private enum State { HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS, UNTIL_CLOSE, WS_HEADER, WS_PAYLOAD,
    LOST, OPAQUE }

  private final class Direction {
    final boolean received;
    State state = State.LOST; // a stream starts out of sync until its first record shows a message start
    long expected;
    byte[] head = new byte[512];
    int headLen;
    long msgStartMono;
    long remaining;
    long bodySize;
    Request current; // rx: the request whose body is being read; tx: the one being answered
    boolean currentMatched;
    // WebSocket frame header being read
    final byte[] frame = new byte[14];
    int frameLen;
    int frameNeed;
    int opcode;
    boolean fin;
    WebSocketOpcode fragmented;
    long fragmentedSize;

    Direction(boolean received) {
      this.received = received;
    }

    void resetHead() {
      headLen = 0;
    }

    void append(byte b) {
      if (headLen == head.length) {
        head = java.util.Arrays.copyOf(head, Math.min(MAX_HEAD, head.length * 2));
      }
      head[headLen++] = b;
    }

    /** Appends {@code b[from, to)} (at most up to MAX_HEAD in all: the caller bounds it). */
    void append(byte[] b, int from, int to) {
      int n = to - from;
      if (headLen + n > head.length) {
        head = java.util.Arrays.copyOf(head, Math.min(MAX_HEAD, Math.max(head.length * 2, headLen + n)));
      }
      System.arraycopy(b, from, head, headLen, n);
      headLen += n;
    }

    /**
     * Where the head ends in {@code b[from, to)}: the index just past its blank line's CRLF, the
     * blank line's first bytes possibly being the last ones already kept; -1 when not there.
     */
    int headEnd(byte[] b, int from, int to) {
      for (int i = Bytes.indexOf(b, (byte) '\n', from, to); i >= 0; i = Bytes.indexOf(b, (byte) '\n', i + 1, to)) {
        if (at(b, from, i - 1) == '\r' && at(b, from, i - 2) == '\n' && at(b, from, i - 3) == '\r') {
          return i + 1;
        }
      }
      return -1;
    }

    /** The byte at {@code i} of the stream where {@code b[from]} follows the kept head (0 before it). */
    private byte at(byte[] b, int from, int i) {
      if (i >= from) {
        return b[i];
      }
      int k = headLen - (from - i);
      return k >= 0 ? head[k] : 0;
    }
  }

  private final Direction rx = new Direction(true);
  private final Direction tx = new Direction(false);
  private final ArrayDeque<Request> pending = new ArrayDeque<>();
  private final Sink sink;
  private final Losses losses = new Losses();
  private final int maxTarget;
  private boolean websocket;
  /** After the request side resynced: responses whose first byte was sent before this are unmatched. */
  private long unpairedBefore = Long.MIN_VALUE;
  private boolean rxEverLost;
  private boolean txEverLost;
  private boolean started;
  /** The time of the record being fed, and of the send in which the response side lost step. */
  private long feedMono;
  private long txLostMono;

  ConnectionStream(Sink sink, int maxTarget) {
    this.sink = sink;
    this.maxTarget = maxTarget;
  }

  Losses losses() {
    return losses;
  }

  /** One read (received) or send of the connection's owner. */
  void feed(DataRecord r) {
    Direction d = r.send() ? tx : rx;
    feedMono = r.monoNanos();
    if (!started) {
      started = true;
      if (!r.adopted()) {
        // tracked from its establishment: both streams start at a message
        rx.state = State.HEAD;
        tx.state = State.HEAD;
      }
    }
    if (r.streamOffset() != d.expected && d.state != State.LOST && d.state != State.OPAQUE) {
      lose(d); // a record between was lost (its ring buffer was full)
    }
    d.expected = r.endOffset();
    if (d.state == State.OPAQUE) {
      return;
    }
    byte[] b = r.bytes(); // empty for a call without a readable buffer: its bytes are skipped or resynced
    long mono = r.monoNanos();
    int len = r.length();
    if (d.state == State.LOST && !resync(d, r.streamOffset(), b, mono)) {
      return;
    }
    if (d.received && r.streamOffset() == 0 && isTls(b)) {
      tlsStream();
      return;
    }
    int p = 0;
    while (p < len && d.state != State.LOST && d.state != State.OPAQUE) {
      switch (d.state) {
        case HEAD -> {
          if (p >= b.length) {
            lose(d); // the head is beyond what was captured
            return;
          }
          if (d.headLen == 0) {
            d.msgStartMono = mono;
          }
          int limit = Math.min(b.length, p + (MAX_HEAD - d.headLen));
          int end = d.headEnd(b, p, limit);
          if (end >= 0 && d.headLen == 0) {
            onHead(d, b, p, end, mono); // the whole head in this record (the usual case): read in place
            p = end;
          } else if (end >= 0) {
            d.append(b, p, end);
            p = end;
            onHead(d, d.head, 0, d.headLen, mono);
          } else {
            d.append(b, p, limit);
            p = limit;
            if (d.headLen >= MAX_HEAD) {
              oversizedHead(d);
            } else if (p < len) {
              lose(d); // the rest of the head is beyond what was captured
              return;
            }
          }
        }
        case BODY, CHUNK_DATA, CHUNK_CRLF, WS_PAYLOAD -> {
          long take = Math.min(d.remaining, len - p);
          p += (int) take;
          d.remaining -= take;
          if (d.state != State.CHUNK_CRLF) {
            d.bodySize += take;
          }
          if (d.remaining == 0) {
            switch (d.state) {
              case BODY -> messageDone(d, mono);
              case CHUNK_DATA -> {
                d.state = State.CHUNK_CRLF;
                d.remaining = 2;
              }
              case CHUNK_CRLF -> startLine(d, State.CHUNK_SIZE);
              default -> frameDone(d, mono);
            }
          }
        }
        case CHUNK_SIZE, TRAILERS -> {
          if (p >= b.length) {
            lose(d);
            return;
          }
          boolean line = false;
          while (p < b.length && d.headLen < MAX_LINE) {
            d.append(b[p++]);
            if (d.head[d.headLen - 1] == '\n') {
              line = true;
              break;
            }
          }
          if (!line) {
            if (d.headLen >= MAX_LINE || p < len) {
              lose(d);
              return;
            }
          } else {
            onLine(d, mono);
          }
        }
        case UNTIL_CLOSE -> {
          d.bodySize += len - p;
          p = len;
        }
        case WS_HEADER -> {
          if (p >= b.length) {
            lose(d);
            return;
          }
          while (p < b.length && d.frameLen < d.frameNeed) {
            d.frame[d.frameLen++] = b[p++];
            if (d.frameLen == 2) {
              d.frameNeed = 2 + ((d.frame[1] & 0x7f) == 126 ? 2 : (d.frame[1] & 0x7f) == 127 ? 8 : 0)
                  + ((d.frame[1] & 0x80) != 0 ? 4 : 0);
            }
          }
          if (d.frameLen == d.frameNeed) {
            onFrameHeader(d, mono);
          } else if (p < len) {
            lose(d);
            return;
          }
        }
        default -> p = len;
      }
    }
  }

  /** The connection closed at {@code mono}: what is outstanding ends now, with the reason. */
  void closed(long mono) {
    Request answering = tx.current;
    if (answering != null && tx.currentMatched) {
      if (tx.state == State.UNTIL_CLOSE) {
        answering.responseBody = tx.bodySize; // a response framed by the close is complete now
      } else {
        answering.errorType = dev.wmscope.otel.HttpExchange.RESPONSE_TRUNCATED;
      }
      answering.endMono = mono;
      sink.exchange(answering);
    }
    tx.current = null;
    for (Request r : pending) {
      r.errorType = dev.wmscope.otel.HttpExchange.CONNECTION_CLOSED;
      r.endMono = mono;
      sink.exchange(r);
    }
    pending.clear();
  }

  /** The connection's state is dropped without a close: nothing outstanding will be reported. */
  void abandonOutstanding() {
    if (tx.current != null && tx.currentMatched) {
      abandon(tx.current);
    }
    tx.current = null;
    abandonAll();
  }

  // --- resync -------------------------------------------------------------------------------

  private boolean resync(Direction d, long offset, byte[] b, long mono) {
    if (d.received && offset == 0 && isTls(b)) {
      tlsStream();
      return false;
    }
    if (websocket) {
      if (!plausibleFrame(d, b)) {
        return false;
      }
      startFrame(d);
    } else {
      if (!(d.received ? looksLikeRequest(b) : startsWith(b, 0, b.length, "HTTP/1."))) {
        return false;
      }
      d.state = State.HEAD;
      d.resetHead();
    }
    if (d.received && rxEverLost) {
      // requests in the gap were never seen: the outstanding ones can no longer be paired
      abandonAll();
      unpairedBefore = mono;
    } else if (!d.received && txEverLost) {
      resyncedResponse = true; // paired only if one request is outstanding (matchResponse)
    }
    return true;
  }

  /** A TLS handshake record (a ClientHello): Workerman's transport = ssl. */
  private static boolean isTls(byte[] b) {
    return b.length >= 2 && b[0] == 0x16 && b[1] == 0x03;
  }

  /** TLS: the bytes are opaque; bytes and time are all there is (counted, said in the README). */
  private void tlsStream() {
    losses.tls = true;
    rx.state = State.OPAQUE;
    tx.state = State.OPAQUE;
  }

  private void lose(Direction d) {
    losses.desyncs++;
    d.state = State.LOST;
    d.resetHead();
    if (d.received) {
      rxEverLost = true;
      if (d.current != null) {
        pending.remove(d.current); // its body was being read: its end is unknown
        abandon(d.current);
        d.current = null;
      }
    } else {
      txEverLost = true;
      txLostMono = feedMono;
      if (d.current != null && d.currentMatched) {
        abandon(d.current);
      }
      d.current = null;
    }
  }

  /** Whether {@code b[from, to)} starts with {@code prefix}, byte for byte (protocol tokens are case-sensitive). */
  private static boolean startsWith(byte[] b, int from, int to, String prefix) {
    if (to - from < prefix.length()) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (b[from + i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** A method token (upper-case letters) and a space, then a target starting with '/' or '*' or a scheme. */
  static boolean looksLikeRequest(byte[] b) {
    int i = 0;
    while (i < b.length && i < 20 && b[i] >= 'A' && b[i] <= 'Z') {
      i++;
    }
    return i >= 3 && i < b.length - 1 && b[i] == ' ' && (b[i + 1] == '/' || b[i + 1] == '*' || b[i + 1] == 'h');
  }

  /** A frame header with reserved bits clear, a known opcode, the mask a client must set (or a server must not). */
  private static boolean plausibleFrame(Direction d, byte[] b) {
    if (b.length < 2) {
      return false;
    }
    int op = b[0] & 0x0f;
    boolean known = op <= 2 || (op >= 8 && op <= 10);
    boolean masked = (b[1] & 0x80) != 0;
    boolean control = op >= 8;
    return (b[0] & 0x70) == 0 && known && masked == d.received
        && (!control || ((b[0] & 0x80) != 0 && (b[1] & 0x7f) <= 125));
  }

  // --- HTTP ---------------------------------------------------------------------------------

  private void startLine(Direction d, State s) {
    d.state = s;
    d.resetHead();
  }

  /**
   * The head in {@code b[from, to)} (ending with its blank line) is complete. Heads are parsed in
   * place: only the values a span or the framing needs become strings (a profile of the agent
   * under keep-alive load had 40% of its poll thread in building a string of every head and
   * splitting it).
   */
  private void onHead(Direction d, byte[] b, int from, int to, long mono) {
    d.bodySize = 0;
    if (d.received) {
      onRequestHead(d, b, from, to);
    } else {
      onResponseHead(d, b, from, to, mono);
    }
    d.resetHead();
  }

  private void onRequestHead(Direction d, byte[] b, int from, int end) {
    Request r = new Request();
    r.startMono = d.msgStartMono;
    int eol = Bytes.indexOfCrlf(b, from, end);
    int sp1 = Bytes.indexOf(b, (byte) ' ', from, eol);
    int sp2 = sp1 < 0 ? -1 : Bytes.indexOf(b, (byte) ' ', sp1 + 1, eol);
    boolean valid = sp1 > from && sp2 > sp1 + 1 && Bytes.indexOf(b, (byte) ' ', sp2 + 1, eol) < 0
        && upperLetters(b, from, sp1) && startsWith(b, sp2 + 1, eol, "HTTP/1.");
    addPending(r);
    if (!valid) {
      // Workerman answers 400 and closes: the response pairs with this request, named _OTHER
      d.state = State.LOST;
      rxEverLost = true;
      return;
    }
    r.method = method(b, from, sp1);
    r.target = new String(b, sp1 + 1, Math.min(sp2 - sp1 - 1, maxTarget), StandardCharsets.ISO_8859_1);
    r.version = version(b, sp2 + 6, eol);
    Headers h = headers.parse(b, eol + 2, end);
    r.host = h.host;
    r.userAgent = h.userAgent;
    r.traceparent = h.traceparent;
    r.tracestate = h.tracestate;
    r.upgradeWebsocket = h.upgradeWebsocket;
    d.current = r;
    bodyFraming(d, h, false, State.HEAD, d.msgStartMono);
  }

  /** A head past Workerman's limit: it answers 431 (or 413) and closes; the request is kept for that answer. */
  private void oversizedHead(Direction d) {
    if (d.received) {
      String start = new String(d.head, 0, Math.min(d.headLen, maxTarget + 32), StandardCharsets.ISO_8859_1);
      String[] line = start.split("[ \r\n]", 3);
      Request r = new Request();
      r.startMono = d.msgStartMono;
      if (line.length >= 2 && looksLikeRequest(d.head)) {
        r.method = line[0];
        r.target = line[1].length() > maxTarget ? line[1].substring(0, maxTarget) : line[1];
        r.version = "1.1";
      }
      addPending(r);
      losses.desyncs++;
      d.state = State.LOST;
      d.resetHead();
      rxEverLost = true;
    } else {
      lose(d);
    }
  }

  private void addPending(Request r) {
    if (pending.size() >= MAX_PENDING) {
      abandon(pending.pollFirst());
    }
    pending.addLast(r);
    sink.started(r);
  }

  private void abandon(Request r) {
    losses.unmatchedRequests++;
    sink.abandoned(r);
  }

  private void abandonAll() {
    while (!pending.isEmpty()) {
      abandon(pending.pollFirst());
    }
  }

  private void onResponseHead(Direction d, byte[] b, int from, int end, long mono) {
    int eol = Bytes.indexOfCrlf(b, from, end);
    int status = eol - from >= 12 && startsWith(b, from, eol, "HTTP/1.") && b[from + 8] == ' '
        ? (int) digits(b, from + 9, from + 12) : -1;
    if (status < 100) {
      lose(d);
      return;
    }
    Headers h = headers.parse(b, eol + 2, end);
    if (status >= 100 && status < 200 && status != 101) {
      Request waiting = pending.peekFirst();
      if (waiting != null && waiting.firstByteMono == 0) {
        waiting.firstByteMono = d.msgStartMono;
      }
      d.state = State.HEAD; // an interim response (100 Continue): the final one follows
      return;
    }
    Request r = matchResponse(d.msgStartMono);
    d.current = r;
    d.currentMatched = r != null;
    if (r != null) {
      r.status = status;
      if (r.firstByteMono == 0) {
        r.firstByteMono = d.msgStartMono;
      }
    }
    boolean noBody = status == 101 || status == 204 || status == 304 || (r != null && "HEAD".equals(r.method));
    bodyFraming(d, h, noBody, State.UNTIL_CLOSE, mono);
    if (status == 101) {
      if (h.upgradeWebsocket) {
        websocket = true;
        startFrame(rx);
        startFrame(tx);
      } else {
        rx.state = State.OPAQUE; // another protocol (h2c): not ours to frame
        tx.state = State.OPAQUE;
      }
    }
  }

  /** The request a response that began at {@code startMono} answers, or null when that is not certain. */
  private Request matchResponse(long startMono) {
    if (startMono < unpairedBefore) {
      losses.unmatchedResponses++;
      return null;
    }
    if (resyncedResponse) {
      resyncedResponse = false;
      // requests read before the send that lost step may have been answered in what was not
      // seen; one read after it cannot have been (a worker answers only what it has read)
      while (!pending.isEmpty() && pending.peekFirst().startMono < txLostMono) {
        abandon(pending.pollFirst());
      }
      if (pending.size() != 1) {
        abandonAll();
        losses.unmatchedResponses++;
        return null;
      }
    }
    Request r = pending.pollFirst();
    if (r == null) {
      losses.unmatchedResponses++;
    }
    return r;
  }

  /** The response side just resynced: its first response is paired only when that is certain. */
  private boolean resyncedResponse;

  /** Sets the state that reads the body of the message whose head was just parsed. */
  private void bodyFraming(Direction d, Headers h, boolean noBody, State unframed, long mono) {
    if (noBody) {
      messageDone(d, mono);
      return;
    }
    if (h.chunked) {
      startLine(d, State.CHUNK_SIZE);
    } else if (h.contentLength >= 0) {
      d.state = State.BODY;
      d.remaining = h.contentLength;
      if (h.contentLength == 0) {
        messageDone(d, mono);
      }
    } else if (d.received) {
      messageDone(d, mono); // a request without a body
    } else {
      d.state = unframed; // HTTP/1.0 style: the body ends with the connection
    }
  }

  private void onLine(Direction d, long mono) {
    String line = new String(d.head, 0, d.headLen, StandardCharsets.ISO_8859_1).strip();
    d.resetHead();
    if (d.state == State.TRAILERS) {
      if (line.isEmpty()) {
        messageDone(d, mono);
      }
      return;
    }
    int semi = line.indexOf(';');
    String hex = semi < 0 ? line : line.substring(0, semi).strip();
    long size;
    try {
      size = hex.isEmpty() || hex.length() > 15 ? -1 : Long.parseLong(hex, 16);
    } catch (NumberFormatException e) {
      size = -1;
    }
    if (size < 0) {
      lose(d);
    } else if (size == 0) {
      d.state = State.TRAILERS;
    } else {
      d.state = State.CHUNK_DATA;
      d.remaining = size;
    }
  }

  private void messageDone(Direction d, long mono) {
    Request r = d.current;
    d.state = State.HEAD;
    d.resetHead();
    if (d.received) {
      if (r != null) {
        r.requestBody = d.bodySize;
      }
      d.current = null;
      return;
    }
    d.current = null;
    if (r != null && d.currentMatched) {
      r.responseBody = d.bodySize;
      r.endMono = mono;
      sink.exchange(r);
    }
  }

  // --- WebSocket ----------------------------------------------------------------------------

  private void startFrame(Direction d) {
    d.state = State.WS_HEADER;
    d.frameLen = 0;
    d.frameNeed = 2;
  }

  private void onFrameHeader(Direction d, long mono) {
    byte[] f = d.frame;
    int op = f[0] & 0x0f;
    boolean masked = (f[1] & 0x80) != 0;
    int len7 = f[1] & 0x7f;
    long len;
    if (len7 == 126) {
      len = ((f[2] & 0xffL) << 8) | (f[3] & 0xffL);
    } else if (len7 == 127) {
      len = 0;
      for (int i = 2; i < 10; i++) {
        len = (len << 8) | (f[i] & 0xffL);
      }
    } else {
      len = len7;
    }
    boolean known = op <= 2 || (op >= 8 && op <= 10);
    if ((f[0] & 0x70) != 0 || !known || len < 0 || masked != d.received) {
      lose(d);
      return;
    }
    d.opcode = op;
    d.fin = (f[0] & 0x80) != 0;
    d.remaining = len;
    d.bodySize = 0;
    d.state = State.WS_PAYLOAD;
    if (len == 0) {
      frameDone(d, mono);
    }
  }

  private void frameDone(Direction d, long mono) {
    long size = d.bodySize;
    startFrame(d);
    if (d.opcode == 0) {
      if (d.fragmented == null) {
        return; // a continuation without a start: out of step, nothing to count
      }
      d.fragmentedSize += size;
      if (d.fin) {
        sink.message(d.received, d.fragmented, d.fragmentedSize, mono);
        d.fragmented = null;
      }
      return;
    }
    WebSocketOpcode op = WebSocketOpcode.of(d.opcode);
    if (!d.fin && d.opcode < 8) {
      d.fragmented = op; // a fragmented message counts once, at its last frame
      d.fragmentedSize = size;
      return;
    }
    sink.message(d.received, op, size, mono);
    if (op == WebSocketOpcode.CLOSE) {
      d.state = State.OPAQUE; // nothing may follow a close frame in this direction
    }
  }

  private final Headers headers = new Headers();

  /**
   * The few headers framing and the spans need, from a head's header lines, read in place. One
   * per connection, reused for every head: a keep-alive client sends the same Host and
   * User-Agent every time, so the last value's string is reused while its bytes are the same.
   */
  static final class Headers {
    long contentLength;
    boolean chunked;
    boolean upgradeWebsocket;
    String host;
    String userAgent;
    String traceparent;
    String tracestate;
    private final Reused lastHost = new Reused();
    private final Reused lastUserAgent = new Reused();

    /** Parses the header lines in {@code b[from, to)} (CRLF-separated); returns this. */
    Headers parse(byte[] b, int from, int to) {
      contentLength = -1;
      chunked = false;
      upgradeWebsocket = false;
      host = null;
      userAgent = null;
      traceparent = null;
      tracestate = null;
      int i = from;
      while (i < to) {
        int end = Bytes.indexOfCrlf(b, i, to);
        if (end < 0) {
          end = to;
        }
        int colon = Bytes.indexOf(b, (byte) ':', i, end);
        if (colon > i) {
          int a = colon + 1;
          int z = end;
          while (a < z && (b[a] == ' ' || b[a] == '\t')) {
            a++;
          }
          while (z > a && (b[z - 1] == ' ' || b[z - 1] == '\t')) {
            z--;
          }
          // names compared in place, case-insensitively, first by length
          switch (colon - i) {
            case 4 -> {
              if (isIgnoringCase(b, i, colon, "host")) {
                host = lastHost.of(b, a, z);
              }
            }
            case 7 -> {
              if (isIgnoringCase(b, i, colon, "upgrade")) {
                upgradeWebsocket = isIgnoringCase(b, a, z, "websocket");
              }
            }
            case 10 -> {
              if (isIgnoringCase(b, i, colon, "user-agent")) {
                userAgent = lastUserAgent.of(b, a, z);
              } else if (isIgnoringCase(b, i, colon, "tracestate")) {
                tracestate = new String(b, a, z - a, StandardCharsets.ISO_8859_1);
              }
            }
            case 11 -> {
              if (isIgnoringCase(b, i, colon, "traceparent")) {
                traceparent = new String(b, a, z - a, StandardCharsets.ISO_8859_1);
              }
            }
            case 14 -> {
              if (isIgnoringCase(b, i, colon, "content-length")) {
                contentLength = z - a > 18 ? -1 : digits(b, a, z);
              }
            }
            case 17 -> {
              if (isIgnoringCase(b, i, colon, "transfer-encoding")) {
                chunked = contains(b, a, z, "chunked");
              }
            }
            default -> { }
          }
        }
        i = end + 2;
      }
      return this;
    }
  }

  /** The string of the last value seen, reused while the bytes are the same. */
  private static final class Reused {
    private byte[] bytes = new byte[0];
    private String value;

    String of(byte[] b, int from, int to) {
      int n = to - from;
      if (value != null && n == bytes.length && java.util.Arrays.equals(bytes, 0, n, b, from, to)) {
        return value;
      }
      bytes = java.util.Arrays.copyOfRange(b, from, to);
      value = new String(bytes, StandardCharsets.ISO_8859_1);
      return value;
    }
  }

  /** The request method: the common ones as constants, others as read. */
  private static String method(byte[] b, int from, int to) {
    for (String m : METHODS) {
      if (to - from == m.length() && startsWith(b, from, to, m)) {
        return m;
      }
    }
    return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
  }

  private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT",
      "TRACE"};

  /** The protocol version after "HTTP/" in {@code b[from, to)}. */
  private static String version(byte[] b, int from, int to) {
    if (to - from == 3 && b[from] == '1' && b[from + 1] == '.') {
      if (b[from + 2] == '1') {
        return "1.1";
      }
      if (b[from + 2] == '0') {
        return "1.0";
      }
    }
    return new String(b, from, Math.max(0, to - from), StandardCharsets.ISO_8859_1);
  }

  /** The decimal number in {@code b[from, to)}, or -1 when it is empty or holds anything but digits. */
  static long digits(byte[] b, int from, int to) {
    if (from >= to) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      int c = b[i] - '0';
      if (c < 0 || c > 9) {
        return -1;
      }
      v = v * 10 + c;
    }
    return v;
  }

  private static boolean upperLetters(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] < 'A' || b[i] > 'Z') {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code b[from, to)} is the lower-case {@code name}, ASCII letters in either case (header names). */
  private static boolean isIgnoringCase(byte[] b, int from, int to, String name) {
    int n = name.length();
    if (to - from != n) {
      return false;
    }
    for (int k = 0; k < n; k++) {
      int x = b[from + k];
      int y = name.charAt(k);
      if (x != y && ((x | 0x20) != y || y < 'a' || y > 'z')) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code b[from, to)} contains the lower-case word {@code word}, ignoring case. */
  private static boolean contains(byte[] b, int from, int to, String word) {
    for (int i = from; i + word.length() <= to; i++) {
      if (isIgnoringCase(b, i, i + word.length(), word)) {
        return true;
      }
    }
    return false;
  }
}
