package dev.wmscope.agent.cli;

import dev.wmscope.agent.Agent;
import dev.wmscope.agent.AgentLock;
import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.ExportConfig;
import dev.wmscope.agent.http.HttpAddress;
import dev.wmscope.agent.telemetry.ExportNames;
import dev.wmscope.agent.telemetry.OtelSetup;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.wmscope.agent.selection.Selection;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.KernelFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** `wmscope run`: the agent, until SIGTERM or SIGINT. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Watch TCP connections and export them as OpenTelemetry spans and metrics.",
        "With no --port/--pid/--process-name/--cgroup, every Workerman app on this host is watched,"
            + " including apps started later."})
public final class RunCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(RunCommand.class.getName());

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin ConfigOption configOption;

  @CommandLine.Mixin LogOptions logOptions;

  @Option(names = "--lock-file", paramLabel = "PATH",
      description = "Held while the agent runs, so a second agent on this host is detected and refused (exit 4);"
          + " none turns the check off (default: /run/wmscope/wmscope.lock).")
  String lockFile = AgentLock.DEFAULT_PATH.toString();

  @Option(names = "--port", split = ",", paramLabel = "PORT",
      description = "Local port whose accepted connections are watched (repeatable, or comma-separated).")
  List<Integer> ports = List.of();

  @Option(names = "--pid", split = ",", paramLabel = "PID",
      description = "Process whose connections are watched: those it accepts on its listening ports and those it initiates (repeatable).")
  List<Integer> pids = List.of();

  @Option(names = "--process-name", paramLabel = "REGEX",
      description = "Like --pid for every process whose name or command line matches (rechecked every discovery interval).")
  Pattern processName;

  @Option(names = "--cgroup", paramLabel = "PATH",
      description = "Watch everything inside this cgroup v2 directory (e.g. a container's). Alone it selects every port and process there; with other selectors it only limits where they apply.")
  Path cgroup;

  @Option(names = "--discovery-interval", paramLabel = "DURATION",
      description = "How often /proc is rescanned for Workerman apps, reloads and listeners, e.g. 1s, 500ms (default: 1s).")
  String discoveryInterval = "1s";

  @Option(names = "--poll-interval", paramLabel = "DURATION",
      description = "How often live counters, RTT and accept queues are read from the kernel (default: 1s).")
  String pollInterval = "1s";

  @Option(names = "--stall-threshold", paramLabel = "DURATION",
      description = "A worker is stalled when received bytes stay unread this long (default: 2s).")
  String stallThreshold = "2s";

  @Option(names = "--blocked-threshold", paramLabel = "DURATION",
      description = "A worker is blocked when its event loop has not returned to its wait for events this long"
          + " (default: 1s).")
  String blockedThreshold = "1s";

  @Option(names = "--series-retention", paramLabel = "DURATION",
      description = "How long the metric series of a process that exited stay exported, so every scrape and export sees their final values (default: 5m).")
  String seriesRetention = "5m";

  @Option(names = "--format", paramLabel = "FORMAT",
      description = "Per closed connection on stdout: none, text or json (default: none).")
  AgentConfig.Output format = AgentConfig.Output.NONE;

  @Option(names = "--console", description = "Shorthand for --format text.")
  boolean console;

  @Option(names = "--max-connections", paramLabel = "N",
      description = "How many connections the kernel tracks at once; more are counted as dropped"
          + " (conn_map_full) (default: ${DEFAULT-VALUE}).")
  int maxConnections = ConnectionProbe.Options.DEFAULT_MAX_CONNECTIONS;

  @Option(names = "--ring-buffer-bytes", paramLabel = "BYTES",
      description = "Kernel ring buffer size, a power of two >= 4096 (default: ${DEFAULT-VALUE}).")
  int ringBufferBytes = ConnectionProbe.Options.DEFAULT_RING_BUFFER_BYTES;

  @Option(names = "--request-capture-bytes", paramLabel = "BYTES",
      description = "HTTP and WebSocket workers: bytes copied from the start of each read and send to frame"
          + " requests and messages (their heads; bodies are skipped by length), at most 16384; 0 turns request"
          + " telemetry off (default: ${DEFAULT-VALUE}).")
  int requestCaptureBytes = ConnectionProbe.Options.DEFAULT_CAPTURE_BYTES;

  @Option(names = "--http-route", paramLabel = "TEMPLATE",
      description = "A route template such as /users/{id} (repeatable): the http.route and span name of the"
          + " requests whose path it matches, first match wins. Paths are never used as routes.")
  List<String> httpRoutes = new ArrayList<>();

  @Option(names = "--http-capture-query", description = "Put the query string on request spans (url.query).")
  boolean httpCaptureQuery;

  @Option(names = "--http-capture-user-agent",
      description = "Put the User-Agent header on request spans (user_agent.original).")
  boolean httpCaptureUserAgent;

  // --- export: each flag sets the OpenTelemetry property named in its description, over OTEL_* ---

  @Option(names = "--http-address", paramLabel = "HOST:PORT",
      description = "Where the HTTP server (Prometheus /metrics) listens, or none (default: 127.0.0.1:9464).")
  String httpAddress = HttpAddress.DEFAULT.toString();

  @Option(names = "--http-token-file", paramLabel = "PATH",
      description = "A file holding a bearer token: every HTTP request but /healthz must then send"
          + " 'Authorization: Bearer TOKEN' (Prometheus: authorization.credentials_file).")
  Path httpTokenFile;

  @Option(names = "--service-name", paramLabel = "NAME",
      description = "service.name of everything exported (default: WMSCOPE_SERVICE_NAME, OTEL_SERVICE_NAME,"
          + " then the Workerman app's directory or start file, else wmscope).")
  String serviceName;

  @Option(names = "--otlp-endpoint", paramLabel = "URL",
      description = "OTLP collector, e.g. http://collector:4318 (otel.exporter.otlp.endpoint). Setting one turns"
          + " on OTLP export of traces and metrics.")
  String otlpEndpoint;

  @Option(names = "--otlp-protocol", paramLabel = "PROTOCOL",
      description = "grpc or http/protobuf (otel.exporter.otlp.protocol; default http/protobuf).")
  String otlpProtocol;

  @Option(names = "--traces-exporter", paramLabel = "LIST",
      description = "otlp, zipkin, console or none, comma-separated (otel.traces.exporter; default otlp with an"
          + " endpoint, else none).")
  String tracesExporter;

  @Option(names = "--metrics-exporter", paramLabel = "LIST",
      description = "otlp, console or none (otel.metrics.exporter; default otlp with an endpoint, else none)."
          + " Prometheus is always served at /metrics.")
  String metricsExporter;

  @Option(names = "--metric-export-interval", paramLabel = "DURATION",
      description = "How often metrics are pushed (otel.metric.export.interval; default 60s).")
  String metricExportInterval;

  @Option(names = "--span-export-delay", paramLabel = "DURATION",
      description = "Longest a finished span waits for its batch (otel.bsp.schedule.delay; default 1s).")
  String spanExportDelay;

  @Option(names = "--trace-sample-ratio", paramLabel = "RATIO",
      description = "Share of healthy, short connections exported as spans, 0 to 1 (otel.traces.sampler="
          + "parentbased_traceidratio; default: OTEL_TRACES_SAMPLER, else all).")
  Double traceSampleRatio;

  @Option(names = "--trace-slow-threshold", paramLabel = "DURATION",
      description = "Connections open at least this long are always exported, whatever the ratio; errors and"
          + " retransmits always are (wmscope.traces.slow.threshold; default 10s, 0 = off).")
  String traceSlowThreshold;

  @Override
  public Integer call() throws Exception {
    logOptions.apply(java.util.logging.Level.INFO);
    AgentConfig config = config();
    ExportConfig export = export();
    CountDownLatch stop = new CountDownLatch(1);
    // Handle the signals ourselves so a requested stop is an orderly one with exit code 0.
    // SIGHUP (the terminal went away, or an operator's habit of "reload") stops it the same way:
    // there is nothing to reload, and dying with 129 would skip the detach and the flush
    for (String name : List.of("TERM", "INT", "HUP")) {
      Signal.handle(new Signal(name), s -> {
        LOG.log(System.Logger.Level.INFO, "SIG" + s.getName() + " received");
        stop.countDown();
      });
    }
    Optional<AgentLock> lock = lockFile.equalsIgnoreCase("none") ? Optional.empty()
        : AgentLock.acquire(Path.of(lockFile), export.http().map(HttpAddress::toString).orElse("none"));
    try {
      Agent running;
      try {
        running = Agent.start(config, export, System.out);
      } catch (ConfigurationException e) {
        throw usage("configure OpenTelemetry: " + e.getMessage());
      }
      boolean failed;
      try (Agent agent = running) {
        if (agent.httpPort() > 0) {
          lock.ifPresent(l -> l.update(new HttpAddress(export.http().orElseThrow().host(), agent.httpPort()).toString()));
        }
        agent.failure().thenRun(stop::countDown); // connection tracking ended by itself
        stop.await();
        failed = agent.failure().toCompletableFuture().isDone();
        LOG.log(System.Logger.Level.INFO, "stopping");
      }
      if (failed) {
        return ExitCodes.FAILURE;
      }
    } finally {
      lock.ifPresent(AgentLock::close);
    }
    return ExitCodes.OK;
  }

  AgentConfig config() {
    for (int p : ports) {
      if (p < 1 || p > 65535) {
        throw Sources.bad(spec, "--port", String.valueOf(p), "not a TCP port (1-65535)");
      }
    }
    for (int p : pids) {
      if (p < 1) {
        throw Sources.bad(spec, "--pid", String.valueOf(p), "not a process id");
      }
    }
    if (cgroup != null && !Files.isDirectory(cgroup)) {
      throw Sources.bad(spec, "--cgroup", cgroup.toString(), "no such directory");
    }
    Duration interval = duration("--discovery-interval", discoveryInterval);
    Duration poll = duration("--poll-interval", pollInterval);
    Duration stall = duration("--stall-threshold", stallThreshold);
    Duration blocked = duration("--blocked-threshold", blockedThreshold);
    Duration retention = duration("--series-retention", seriesRetention);
    if (maxConnections <= 0) {
      throw Sources.bad(spec, "--max-connections", String.valueOf(maxConnections), "must be positive");
    }
    if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
      throw Sources.bad(spec, "--ring-buffer-bytes", String.valueOf(ringBufferBytes),
          "must be a power of two of at least 4096");
    }
    if (requestCaptureBytes < 0 || requestCaptureBytes > dev.wmscope.loader.DataRecord.CAPTURE_MAX) {
      throw Sources.bad(spec, "--request-capture-bytes", String.valueOf(requestCaptureBytes),
          "must be 0 (off) to " + dev.wmscope.loader.DataRecord.CAPTURE_MAX);
    }
    dev.wmscope.otel.HttpRoutes routes;
    try {
      routes = dev.wmscope.otel.HttpRoutes.of(httpRoutes);
    } catch (IllegalArgumentException e) {
      throw Sources.bad(spec, "--http-route", String.join(" ", httpRoutes), e.getMessage());
    }
    Path dir = cgroup != null ? cgroup : CgroupV2.requireMount();
    ConnectionProbe.Options probe;
    try {
      probe = new ConnectionProbe.Options(dir, maxConnections, ringBufferBytes, KernelFeature.disabledByEnvironment(),
          requestCaptureBytes);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    Selection selection = new Selection(new LinkedHashSet<>(ports), new LinkedHashSet<>(pids),
        Optional.ofNullable(processName), Optional.ofNullable(cgroup));
    return new AgentConfig(probe, selection, console ? AgentConfig.Output.TEXT : format, interval, poll, stall,
        retention, new AgentConfig.Requests(routes, httpCaptureQuery, httpCaptureUserAgent), blocked);
  }

  ExportConfig export() {
    Optional<HttpAddress> http;
    if (httpAddress.equalsIgnoreCase("none")) {
      http = Optional.empty();
    } else {
      try {
        http = Optional.of(HttpAddress.parse(httpAddress));
      } catch (IllegalArgumentException e) {
        throw Sources.bad(spec, "--http-address", httpAddress, HttpAddress.reason(httpAddress, e));
      }
    }
    Map<String, String> otel = new LinkedHashMap<>();
    if (serviceName != null) {
      if (serviceName.isBlank()) {
        throw Sources.bad(spec, "--service-name", serviceName, "empty");
      }
      otel.put(ExportNames.PROP_SERVICE_NAME, serviceName);
    }
    if (otlpEndpoint != null) {
      otel.put("otel.exporter.otlp.endpoint", otlpEndpoint);
    }
    if (otlpProtocol != null) {
      if (!otlpProtocol.equals("grpc") && !otlpProtocol.equals("http/protobuf")) {
        throw Sources.bad(spec, "--otlp-protocol", otlpProtocol, "use grpc or http/protobuf");
      }
      otel.put("otel.exporter.otlp.protocol", otlpProtocol);
    }
    if (tracesExporter != null) {
      otel.put("otel.traces.exporter", tracesExporter);
    }
    if (metricsExporter != null) {
      otel.put("otel.metrics.exporter", metricsExporter);
    }
    if (metricExportInterval != null) {
      otel.put("otel.metric.export.interval", OtelSetup.millis(duration("--metric-export-interval", metricExportInterval)));
    }
    if (spanExportDelay != null) {
      otel.put("otel.bsp.schedule.delay", OtelSetup.millis(duration("--span-export-delay", spanExportDelay)));
    }
    if (traceSampleRatio != null) {
      if (!(traceSampleRatio >= 0 && traceSampleRatio <= 1)) {
        throw Sources.bad(spec, "--trace-sample-ratio", String.valueOf(traceSampleRatio), "must be between 0 and 1");
      }
      otel.put("otel.traces.sampler", "parentbased_traceidratio");
      otel.put("otel.traces.sampler.arg", Double.toString(traceSampleRatio));
    }
    if (traceSlowThreshold != null) {
      otel.put(ExportNames.PROP_SLOW_THRESHOLD, traceSlowThreshold.strip().equals("0") ? "0"
          : OtelSetup.millis(duration("--trace-slow-threshold", traceSlowThreshold)));
    }
    return new ExportConfig(otel, http, HttpToken.read(spec, httpTokenFile));
  }

  /** A duration flag between 100ms and 24h; errors name where the value came from. */
  private Duration duration(String flag, String text) {
    try {
      return Durations.parse(text, Duration.ofMillis(100), Duration.ofHours(24));
    } catch (IllegalArgumentException e) {
      throw Sources.bad(spec, flag, text, e.getMessage());
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
}
