package dev.wmscope.bench;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wmscope.agent.requests.RequestListener;
import dev.wmscope.agent.requests.RequestStats;
import dev.wmscope.agent.requests.RequestTracker;
import dev.wmscope.loader.ConnEventLayout;
import dev.wmscope.loader.DataRecord;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.HttpRoutes;
import dev.wmscope.otel.RequestTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Request telemetry's user-space work per HTTP request, as the poll thread does it under
 * keep-alive load: decode the read's and the send's data records (the bytes real Workerman 5.2
 * reads from wrk and sends back), frame them (RequestTracker), and at each drain's end hand the
 * exchange to the agent's listeners: RequestTelemetry (http.server.request.duration, body sizes,
 * active requests; spans only in {@code spans=true}, as when a span exporter is configured) and
 * RequestStats (the per-worker figures). One drain per {@link #BATCH} requests, spread over
 * {@link #CONNECTIONS} connections. The score is requests/s on one core; its inverse is the
 * agent CPU per request that bench/requests.sh measures end to end. {@link #webSocketEcho}: the
 * same for a WebSocket worker's echo of a 64-byte text message (two messages per operation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RequestBenchmark {
  static final int CONNECTIONS = 32;
  static final int BATCH = 256;
  static final byte[] REQUEST = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:21800\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
  static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nServer: workerman\r\nConnection: keep-alive\r\n"
      + "Content-Type: text/html;charset=utf-8\r\nContent-Length: 12\r\n\r\nhello /hello").getBytes(StandardCharsets.ISO_8859_1);
  static final byte[] UPGRADE = ("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
  static final byte[] SWITCHING = ("HTTP/1.1 101 Switching Protocol\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
      + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
  /** A 64-byte masked text frame from the client, and Workerman's unmasked echo of it. */
  static final byte[] CLIENT_FRAME = frame(true);
  static final byte[] SERVER_FRAME = frame(false);
  static final int WS_BASE = 2_000_000;

  private static byte[] frame(boolean masked) {
    byte[] f = new byte[2 + (masked ? 4 : 0) + 64];
    f[0] = (byte) 0x81;
    f[1] = (byte) ((masked ? 0x80 : 0) | 64);
    for (int i = 2; i < f.length; i++) {
      f[i] = (byte) ('a' + i % 26);
    }
    return f;
  }

  @Param({"false", "true"})
  public boolean spans;

  private final Fixtures.Counters counters = new Fixtures.Counters();
  private OpenTelemetrySdk sdk;
  private RequestTracker tracker;
  private Arena arena;
  private MemorySegment[] reads;
  private MemorySegment[] sends;
  private ConnectionEvent[] events;
  private long[] offsets;
  private MemorySegment[] wsReads;
  private MemorySegment[] wsSends;
  private long[] wsFrames;
  private long mono = 1_000_000_000L;
  private int next;
  private long requests;

  @Setup(Level.Trial)
  public void setUp() {
    sdk = Fixtures.sdk(counters);
    RequestTelemetry telemetry = new RequestTelemetry(sdk, HttpRoutes.NONE, false, false, spans);
    RequestListener bridge = RequestListener.telemetry(telemetry); // as Agent wires it
    tracker = new RequestTracker(new MonotonicClock(), RequestListener.all(List.of(bridge, new RequestStats())));
    arena = Arena.ofShared();
    reads = new MemorySegment[CONNECTIONS];
    sends = new MemorySegment[CONNECTIONS];
    events = new ConnectionEvent[CONNECTIONS];
    offsets = new long[CONNECTIONS];
    for (int i = 0; i < CONNECTIONS; i++) {
      reads[i] = data(i, false, REQUEST);
      sends[i] = data(i, true, RESPONSE);
      events[i] = Fixtures.toEvent(ConnEventLayout.decode(Fixtures.record(arena, i, false)));
    }
    // WebSocket connections (cookies from WS_BASE): upgraded, then frames only
    wsReads = new MemorySegment[CONNECTIONS];
    wsSends = new MemorySegment[CONNECTIONS];
    wsFrames = new long[CONNECTIONS];
    for (int i = 0; i < CONNECTIONS; i++) {
      MemorySegment up = data(WS_BASE + i, false, UPGRADE);
      MemorySegment sw = data(WS_BASE + i, true, SWITCHING);
      tracker.data(DataRecord.decode(up));
      tracker.data(DataRecord.decode(sw));
      wsReads[i] = data(WS_BASE + i, false, CLIENT_FRAME);
      wsSends[i] = data(WS_BASE + i, true, SERVER_FRAME);
    }
    tracker.endOfBatch(this::event);
  }

  private ConnectionEvent event(long cookie) {
    int i = (int) (cookie - 1_000_000L);
    return events[i >= WS_BASE ? i - WS_BASE : i];
  }

  private MemorySegment data(int i, boolean send, byte[] bytes) {
    MemorySegment s = arena.allocate(DataRecord.LAYOUT.byteSize() + bytes.length, 8);
    s.set(JAVA_LONG, off("cookie"), 1_000_000L + i);
    s.set(JAVA_INT, off("pid"), Fixtures.pid(i % CONNECTIONS));
    s.set(JAVA_INT, off("len"), bytes.length);
    s.set(JAVA_INT, off("captured"), bytes.length);
    s.set(JAVA_BYTE, off("direction"), (byte) (send ? 1 : 0));
    MemorySegment.copy(bytes, 0, s, JAVA_BYTE, DataRecord.LAYOUT.byteSize(), bytes.length);
    return s;
  }

  private static long off(String field) {
    return DataRecord.LAYOUT.byteOffset(groupElement(field));
  }

  private static final long STREAM_OFF = off("stream_off");
  private static final long TS = off("ts_ns");

  @TearDown(Level.Trial)
  public void tearDown() {
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    sdk.close();
    arena.close();
    System.out.printf("%nrequests or echoes: made=%d exchanges=%d messages=%d spans_exported=%d%n", requests,
        tracker.counters().exchanges(), tracker.counters().messages(), counters.spansExported.get());
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void keepAliveRequests() {
    for (int k = 0; k < BATCH; k++) {
      int i = next++ & (CONNECTIONS - 1);
      long off = offsets[i];
      reads[i].set(JAVA_LONG, STREAM_OFF, off);
      reads[i].set(JAVA_LONG, TS, mono);
      sends[i].set(JAVA_LONG, STREAM_OFF, off / REQUEST.length * RESPONSE.length);
      sends[i].set(JAVA_LONG, TS, mono + 40_000);
      tracker.data(DataRecord.decode(reads[i]));
      tracker.data(DataRecord.decode(sends[i]));
      offsets[i] = off + REQUEST.length;
      mono += 10_000;
      requests++;
    }
    tracker.endOfBatch(this::event);
  }

  /** WebSocket echo: a client's text message read, the worker's echo sent (two messages framed). */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void webSocketEcho() {
    for (int k = 0; k < BATCH; k++) {
      int i = next++ & (CONNECTIONS - 1);
      long n = wsFrames[i]++;
      wsReads[i].set(JAVA_LONG, STREAM_OFF, UPGRADE.length + n * CLIENT_FRAME.length);
      wsReads[i].set(JAVA_LONG, TS, mono);
      wsSends[i].set(JAVA_LONG, STREAM_OFF, SWITCHING.length + n * SERVER_FRAME.length);
      wsSends[i].set(JAVA_LONG, TS, mono + 20_000);
      tracker.data(DataRecord.decode(wsReads[i]));
      tracker.data(DataRecord.decode(wsSends[i]));
      mono += 10_000;
      requests++;
    }
    tracker.endOfBatch(this::event);
  }
}
