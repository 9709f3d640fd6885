package dev.wmscope.otel;

import static io.opentelemetry.api.common.AttributeKey.doubleKey;
import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.SchemaUrls;
import io.opentelemetry.semconv.ServerAttributes;
import java.util.List;

/**
 * Every attribute key, metric name, description and unit the bridge emits. These names are a
 * public contract: dashboards, alerts and the agent's JSON-lines output depend on them.
 *
 * <p>Semantic-convention keys come first; where the stable semconv artifact does not (yet) carry
 * a key we spell the convention's name ourselves. Our own names live under {@code wmscope.}.
 */
public final class TelemetryNames {

  private TelemetryNames() {}

  /** Instrumentation scope of every tracer and meter the bridge creates. */
  public static final String SCOPE_NAME = "dev.wmscope";

  /** Semantic-conventions version the semconv names below follow (opentelemetry-semconv). */
  public static final String SCHEMA_URL = SchemaUrls.V1_45_0;

  // --- Semantic-convention attributes (stable artifact) ---

  public static final AttributeKey<String> NETWORK_TRANSPORT = NetworkAttributes.NETWORK_TRANSPORT;
  public static final AttributeKey<String> NETWORK_TYPE = NetworkAttributes.NETWORK_TYPE;
  public static final AttributeKey<String> NETWORK_PEER_ADDRESS =
      NetworkAttributes.NETWORK_PEER_ADDRESS;
  public static final AttributeKey<Long> NETWORK_PEER_PORT = NetworkAttributes.NETWORK_PEER_PORT;
  public static final AttributeKey<String> NETWORK_LOCAL_ADDRESS =
      NetworkAttributes.NETWORK_LOCAL_ADDRESS;
  public static final AttributeKey<Long> NETWORK_LOCAL_PORT = NetworkAttributes.NETWORK_LOCAL_PORT;
  public static final AttributeKey<String> SERVER_ADDRESS = ServerAttributes.SERVER_ADDRESS;
  public static final AttributeKey<Long> SERVER_PORT = ServerAttributes.SERVER_PORT;
  public static final AttributeKey<String> CLIENT_ADDRESS = ClientAttributes.CLIENT_ADDRESS;
  public static final AttributeKey<Long> CLIENT_PORT = ClientAttributes.CLIENT_PORT;
  /** Set on spans and duration points of connections that ended abnormally (a CloseCause value). */
  public static final AttributeKey<String> ERROR_TYPE = ErrorAttributes.ERROR_TYPE;

  // --- Semantic-convention attributes still incubating: same names, defined here so we need
  // not depend on the unstable semconv-incubating artifact ---

  public static final AttributeKey<String> NETWORK_IO_DIRECTION = stringKey("network.io.direction");
  public static final AttributeKey<Long> PROCESS_PID = longKey("process.pid");
  public static final AttributeKey<String> PROCESS_EXECUTABLE_NAME =
      stringKey("process.executable.name");

  /** Values of {@link #NETWORK_IO_DIRECTION}. */
  public static final String IO_RECEIVE = "receive";

  public static final String IO_TRANSMIT = "transmit";

  // --- wmscope attributes ---

  /** "server" for an accepted connection, "client" for one this host initiated. */
  public static final AttributeKey<String> CONNECTION_SIDE = stringKey("wmscope.connection.side");

  public static final String SIDE_SERVER = "server";
  public static final String SIDE_CLIENT = "client";

  /** How the connection ended: a {@link CloseCause} value. */
  public static final AttributeKey<String> CLOSE_CAUSE = stringKey("wmscope.close.cause");

  /** true on spans of connections that were open before wmscope watched them. */
  public static final AttributeKey<Boolean> CONNECTION_PREEXISTING =
      AttributeKey.booleanKey("wmscope.connection.preexisting");

  /** Why kernel events were lost: ringbuf_full, conn_map_full, decode_error. */
  public static final AttributeKey<String> DROP_REASON = stringKey("wmscope.drop.reason");

  /** Which share a balance gauge measures: accepted (since the agent started) or active (now). */
  public static final AttributeKey<String> SHARE_KIND = stringKey("wmscope.share.kind");

  /** true when both ends are watched processes on this host (internal traffic). */
  public static final AttributeKey<Boolean> CONNECTION_INTERNAL =
      AttributeKey.booleanKey("wmscope.connection.internal");

  // Workerman identity of the owning process (our namespace: no semantic convention exists).
  public static final AttributeKey<String> WORKERMAN_WORKER_NAME = stringKey("workerman.worker.name");
  public static final AttributeKey<String> WORKERMAN_WORKER_LISTEN = stringKey("workerman.worker.listen");
  public static final AttributeKey<Long> WORKERMAN_MASTER_PID = longKey("workerman.master.pid");
  public static final AttributeKey<String> WORKERMAN_START_FILE = stringKey("workerman.start_file");
  public static final AttributeKey<String> WORKERMAN_ROLE = stringKey("workerman.role");

  public static final AttributeKey<Long> TCP_BYTES_RECEIVED = longKey("wmscope.tcp.bytes_received");
  public static final AttributeKey<Long> TCP_BYTES_SENT = longKey("wmscope.tcp.bytes_sent");
  public static final AttributeKey<Long> TCP_SEGS_IN = longKey("wmscope.tcp.segs_in");
  public static final AttributeKey<Long> TCP_SEGS_OUT = longKey("wmscope.tcp.segs_out");
  /** Smoothed round-trip time at close, microseconds. */
  public static final AttributeKey<Long> TCP_RTT_US = longKey("wmscope.tcp.rtt_us");
  public static final AttributeKey<Long> TCP_RETRANSMITS = longKey("wmscope.tcp.retransmits");
  /** Connection lifetime in milliseconds (fractional). */
  public static final AttributeKey<Double> CONNECTION_DURATION_MS =
      doubleKey("wmscope.connection.duration_ms");

  // --- Metrics ---

  /** UCUM annotation: a count of connections. */
  public static final String UNIT_CONNECTIONS = "{connection}";

  public static final String CONNECTIONS_OPENED = "wmscope.connection.opened";
  public static final String CONNECTIONS_OPENED_DESCRIPTION =
      "Number of TCP connections established.";

  public static final String CONNECTIONS_CLOSED = "wmscope.connection.closed";
  public static final String CONNECTIONS_CLOSED_DESCRIPTION = "Number of TCP connections closed.";

  public static final String CONNECTIONS_ACTIVE = "wmscope.connection.active";
  public static final String CONNECTIONS_ACTIVE_DESCRIPTION =
      "Number of TCP connections currently open.";

  public static final String CONNECTION_DURATION = "wmscope.connection.duration";
  public static final String CONNECTION_DURATION_DESCRIPTION =
      "Lifetime of closed TCP connections, from establishment to close.";
  public static final String CONNECTION_DURATION_UNIT = "s";
  /**
   * Histogram bucket boundaries in seconds, 100 µs to a day: short HTTP exchanges and
   * day-long WebSocket sessions both land in a meaningful bucket.
   */
  public static final List<Double> CONNECTION_DURATION_BUCKETS =
      List.of(
          0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
          30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0);

  public static final String TCP_RTT = "wmscope.tcp.rtt";
  public static final String TCP_RTT_DESCRIPTION =
      "Smoothed round-trip time samples of TCP connections (one per connection per live read and at close).";
  /** RTT bucket boundaries in seconds, from 10 us (loopback) to 10 s (a dying mobile link). */
  public static final List<Double> TCP_RTT_BUCKETS = List.of(
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0);

  public static final String TCP_RETRANSMITS_METRIC = "wmscope.tcp.retransmits";
  public static final String TCP_RETRANSMITS_DESCRIPTION = "TCP segments retransmitted.";
  public static final String UNIT_SEGMENTS = "{segment}";

  public static final String LISTEN_QUEUE_LENGTH = "wmscope.listen.queue.length";
  public static final String LISTEN_QUEUE_LENGTH_DESCRIPTION =
      "Connections completed by the kernel and waiting for accept() on a listening socket.";
  public static final String LISTEN_QUEUE_LIMIT = "wmscope.listen.queue.limit";
  public static final String LISTEN_QUEUE_LIMIT_DESCRIPTION =
      "Accept-queue capacity of a listening socket (the listen() backlog, capped by somaxconn).";
  public static final String LISTEN_OVERFLOWS = "wmscope.listen.overflows";
  public static final String LISTEN_OVERFLOWS_DESCRIPTION =
      "Connection attempts a listening socket dropped, mostly because its accept queue was full.";

  // --- Request telemetry (HTTP server semantic conventions, and WebSocket messages of ours) ---

  /** Semconv (stable): the HTTP server request duration histogram. */
  public static final String HTTP_SERVER_REQUEST_DURATION = "http.server.request.duration";
  public static final String HTTP_SERVER_REQUEST_DURATION_UNIT = "s";
  /** The semconv advice buckets, 5 ms to 10 s. */
  public static final List<Double> HTTP_SERVER_REQUEST_DURATION_BUCKETS =
      List.of(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);
  /** Semconv (development): body size histograms. */
  public static final String HTTP_SERVER_REQUEST_BODY_SIZE = "http.server.request.body.size";
  public static final String HTTP_SERVER_RESPONSE_BODY_SIZE = "http.server.response.body.size";
  /** Semconv (development): requests read and not yet answered. */
  public static final String HTTP_SERVER_ACTIVE_REQUESTS = "http.server.active_requests";

  public static final String WEBSOCKET_MESSAGES = "wmscope.websocket.messages";
  public static final String WEBSOCKET_MESSAGES_UNIT = "{message}";
  public static final String WEBSOCKET_MESSAGES_DESCRIPTION =
      "WebSocket messages received and sent by watched workers (a fragmented message once).";
  public static final String WEBSOCKET_MESSAGE_SIZE = "wmscope.websocket.message.size";
  public static final String WEBSOCKET_MESSAGE_SIZE_UNIT = "By";
  public static final String WEBSOCKET_MESSAGE_SIZE_DESCRIPTION = "Payload size of WebSocket messages.";

  /** Semconv (development) HTTP attributes, spelled here. */
  public static final AttributeKey<Long> HTTP_REQUEST_BODY_SIZE = longKey("http.request.body.size");
  public static final AttributeKey<Long> HTTP_RESPONSE_BODY_SIZE = longKey("http.response.body.size");
  /** From the read of the request's first byte to the send of the response's first byte, ms (ours). */
  public static final AttributeKey<Double> HTTP_TIME_TO_FIRST_BYTE_MS = doubleKey("wmscope.http.time_to_first_byte_ms");
  /** The request's duration in ms, on the span before it starts, for the "slow always" sampler (ours). */
  public static final AttributeKey<Double> HTTP_DURATION_MS = doubleKey("wmscope.http.duration_ms");
  /** text, binary, close, ping, pong (ours). */
  public static final AttributeKey<String> WEBSOCKET_OPCODE = stringKey("wmscope.websocket.opcode");

  /** Worker health (the issue names them): event-loop and exit metrics of each Workerman worker. */
  public static final String EVENTLOOP_UTILIZATION = "workerman.eventloop.utilization";
  public static final String EVENTLOOP_UTILIZATION_DESCRIPTION =
      "Share of wall time a worker's event loop was not waiting for events (0-1), over the last health tick.";
  public static final String EVENTLOOP_BUSY_DURATION = "workerman.eventloop.busy.duration";
  public static final String EVENTLOOP_BUSY_DURATION_DESCRIPTION =
      "Busy stretches of a worker's event loop: from leaving its wait for events to entering it again.";
  public static final String EVENTLOOP_BLOCKED = "workerman.eventloop.blocked";
  public static final String EVENTLOOP_BLOCKED_DESCRIPTION =
      "1 while a worker has not returned to its event wait for longer than the blocked threshold.";
  public static final String WORKER_EXITS = "workerman.worker.exits";
  public static final String WORKER_EXITS_DESCRIPTION =
      "Worker processes that exited, by cause (reload, stop, stop_timeout, signal, oom, exit, crash, unknown).";
  /** semconv process.unix.file_descriptor.count (development): descriptors a worker holds open. */
  public static final String PROCESS_FD_COUNT = "process.unix.file_descriptor.count";
  public static final String PROCESS_FD_COUNT_DESCRIPTION = "Open file descriptors of a worker process.";
  public static final String PROCESS_FD_LIMIT = "wmscope.process.file_descriptor.limit";
  public static final String PROCESS_FD_LIMIT_DESCRIPTION =
      "A worker's soft RLIMIT_NOFILE: the number of descriptors it may hold open.";
  /** GatewayWorker topology (ours). */
  public static final String GATEWAY_CLIENTS = "workerman.gateway.clients";
  public static final String GATEWAY_CLIENTS_DESCRIPTION =
      "Client connections a Gateway process holds on its client-facing listener (internal links excluded).";
  public static final String LINK_RTT = "workerman.link.rtt";
  public static final String LINK_RTT_DESCRIPTION =
      "The highest smoothed RTT among the internal links of a role pair (e.g. business_worker to gateway).";
  public static final String LINK_BACKLOG = "workerman.link.backlog";
  public static final String LINK_BACKLOG_DESCRIPTION =
      "Bytes waiting on the internal links of a role pair: sent and not acknowledged plus received and not read.";
  public static final String LINK_MISSING = "workerman.link.missing";
  public static final String LINK_MISSING_DESCRIPTION =
      "Links GatewayWorker's convention expects (every BusinessWorker to every Gateway, both to the Register)"
          + " that are not there.";
  public static final String LINK_RECONNECTS = "workerman.link.reconnects";
  public static final String LINK_RECONNECTS_DESCRIPTION =
      "New internal connections between two processes that were linked before (the old link dropped).";
  public static final AttributeKey<String> LINK_CLIENT_ROLE = stringKey("workerman.link.client_role");
  public static final AttributeKey<String> LINK_SERVER_ROLE = stringKey("workerman.link.server_role");

  /** Event names of the log records worker health emits (ours). */
  public static final String EVENT_WORKER_EXIT = "workerman.worker.exit";
  public static final String EVENT_WORKER_BLOCKED = "workerman.worker.blocked";
  public static final String EVENT_WORKER_UNBLOCKED = "workerman.worker.unblocked";
  public static final String EVENT_RELOAD = "workerman.reload";
  /** A master stopped and a new master of the same start file ({@code php start.php restart}). */
  public static final String EVENT_RESTART = "workerman.restart";
  /** Reload and restart report fields on their log records (ours). */
  public static final AttributeKey<Long> RELOAD_REPLACED = longKey("workerman.reload.workers_replaced");
  public static final AttributeKey<Long> RELOAD_CONNECTIONS_CUT = longKey("workerman.reload.connections_cut");
  public static final AttributeKey<Double> RELOAD_DURATION = doubleKey("workerman.reload.duration");
  /** A restart's new master (process.pid is the old one). */
  public static final AttributeKey<Long> RESTART_NEW_MASTER_PID = longKey("workerman.restart.new_master.pid");
  /** What a blocked worker does, and for how long (ours). */
  public static final AttributeKey<String> BLOCKED_DOING = stringKey("workerman.eventloop.blocked.doing");
  public static final AttributeKey<Double> BLOCKED_DURATION = doubleKey("workerman.eventloop.blocked.duration");

  /** select, epoll, or the extension driving it (event, ev, swoole, swow, uv); ours. */
  public static final AttributeKey<String> EVENTLOOP_KIND = stringKey("workerman.eventloop.kind");
  /** Why a worker exited (ours; values in WORKER_EXITS_DESCRIPTION). */
  public static final AttributeKey<String> WORKER_EXIT_CAUSE = stringKey("workerman.worker.exit.cause");

  public static final String WORKER_STALLED = "wmscope.worker.stalled";
  public static final String WORKER_STALLED_DESCRIPTION =
      "1 while a worker leaves received bytes unread on its sockets for longer than the stall threshold.";
  public static final String WORKER_QUEUED = "wmscope.worker.queued";
  public static final String WORKER_QUEUED_DESCRIPTION =
      "Bytes received on a worker's connections that the worker has not read yet.";

  public static final String WORKER_SHARE = "wmscope.worker.share";
  public static final String WORKER_SHARE_DESCRIPTION =
      "A worker's share of a listener's connections: accepted since the agent started, or active now.";

  public static final String EVENTS_DROPPED = "wmscope.events.dropped";
  public static final String EVENTS_DROPPED_DESCRIPTION =
      "Kernel events lost: ring buffer full, connection map full, or undecodable.";
  public static final String UNIT_EVENTS = "{event}";
  public static final String PROBE_SKIPPED_RUNS = "wmscope.probe.skipped_runs";
  public static final String PROBE_SKIPPED_RUNS_DESCRIPTION =
      "Runs of wmscope's tracing programs the kernel skipped because one fired on top of itself on a CPU;"
          + " most lose nothing (see the README).";
  public static final String UNIT_RUNS = "{run}";
  public static final String UNIT_ONE = "1";

  public static final String NETWORK_IO = "wmscope.network.io";
  public static final String NETWORK_IO_DESCRIPTION =
      "TCP payload bytes received and sent (acknowledged), counted while connections are open and at close.";
  public static final String NETWORK_IO_UNIT = "By";
}
