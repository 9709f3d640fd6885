package dev.wmscope.agent;

import dev.wmscope.agent.health.WorkerHealth;
import dev.wmscope.loader.WorkerHealthProbe;
import dev.wmscope.otel.WorkerHealthTelemetry;

import dev.wmscope.agent.output.ConsoleWriter;
import dev.wmscope.agent.output.JsonLinesWriter;
import dev.wmscope.agent.probe.Delivery;
import dev.wmscope.agent.probe.RecordMapper;
import dev.wmscope.agent.selection.SocketOwners;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.agent.requests.RequestListener;
import dev.wmscope.agent.requests.RequestStats;
import dev.wmscope.agent.requests.RequestTracker;
import dev.wmscope.otel.RequestTelemetry;
import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.agent.probe.ProbeVerticle;
import dev.wmscope.agent.discovery.ProcScanner;
import dev.wmscope.agent.selection.DiscoveryService;
import dev.wmscope.agent.selection.InternalTraffic;
import dev.wmscope.agent.selection.ListeningPorts;
import dev.wmscope.agent.selection.LocalAddresses;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.agent.selection.TargetScanner;
import dev.wmscope.agent.selection.WatchReconciler;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.agent.telemetry.OtelSetup;
import dev.wmscope.agent.discovery.WorkermanApp;
import dev.wmscope.agent.http.HttpAddress;
import dev.wmscope.agent.http.HttpRoutes;
import dev.wmscope.agent.http.HttpServerVerticle;
import dev.wmscope.agent.http.PrometheusRoutes;
import dev.wmscope.agent.api.StatusSource;
import dev.wmscope.agent.http.ApiRoutes;
import dev.wmscope.agent.http.PageRoutes;
import dev.wmscope.agent.telemetry.SelfTelemetry;
import dev.wmscope.agent.selection.Selection;
import dev.wmscope.agent.telemetry.ServiceNames;
import dev.wmscope.agent.telemetry.Telemetry;
import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.agent.selection.InodeOwners;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.otel.ConnectionTelemetry;
import dev.wmscope.otel.HostTelemetry;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The running service: the OpenTelemetry SDK, Vert.x, and the probe verticle. Built only here,
 * at the entry point; library code receives what it needs through constructors.
 *
 * <p>{@link #close()} stops in dependency order: the probe (poll loop ends, programs detach),
 * then Vert.x, then the SDK is flushed and shut down, so the last connections are exported.
 */
public final class Agent implements AutoCloseable, StatusSource {
  private static final System.Logger LOG = System.getLogger(Agent.class.getName());
  private static final LiveState.View EMPTY_VIEW = new LiveState.View(0, List.of(), List.of(), List.of(), List.of(),
      Map.of(), dev.wmscope.agent.probe.TrafficStats.Snapshot.EMPTY);

  private final OpenTelemetrySdk sdk;
  private final Vertx vertx;
  private volatile RequestTracker requests;
  private volatile RequestStats requestStats;
  private final Telemetry telemetry;
  private final long pollIntervalMillis;
  private final boolean watchesAllWorkers;
  private volatile HttpServerVerticle http;
  private volatile ProbeVerticle probeVerticle;
  private volatile LiveState live;
  private volatile WorkerHealth health;
  private volatile dev.wmscope.agent.topology.TopologyWatch topology;
  private volatile boolean attached;
  private volatile boolean discovered;
  private volatile boolean stopping;

  private Agent(Telemetry telemetry, Vertx vertx, AgentConfig config) {
    this.watchesAllWorkers = config.selection().workermanAuto();
    this.sdk = telemetry.sdk();
    this.telemetry = telemetry;
    this.vertx = vertx;
    this.pollIntervalMillis = config.pollInterval().toMillis();
  }

  /**
   * Starts with export configured by the environment only and the HTTP server on a free
   * loopback port (logged), so a second agent such as the demo never fails on a taken port.
   */
  public static Agent start(AgentConfig config, PrintStream stdout) throws Exception {
    return start(config, new ExportConfig(Map.of(), Optional.of(new HttpAddress("127.0.0.1", 0))), stdout);
  }

  /**
   * Starts everything and returns once the HTTP server listens and the programs are attached;
   * throws if either cannot be done.
   */
  public static Agent start(AgentConfig config, ExportConfig export, PrintStream stdout) throws Exception {
    // The resource (service.name) is fixed when the SDK is built, which must happen before the
    // probe starts: so the default name comes from one /proc scan here, not from discovery.
    Telemetry telemetry = OtelSetup.build(export.otelOverrides(), defaultServiceName(config.selection()),
        export.http().isPresent());
    OpenTelemetrySdk sdk = telemetry.sdk();
    Vertx vertx = export.http().map(HttpServerVerticle::vertxFor).orElseGet(Vertx::vertx);
    Agent agent = new Agent(telemetry, vertx, config);
    try {
      if (export.http().isPresent()) {
        // first, so a taken port fails the start before any program is attached; /readyz says
        // 503 until the programs are attached and discovery has run once
        agent.http = new HttpServerVerticle(export.http().get(), httpRoutes(telemetry, agent), export.httpToken());
        vertx.deployVerticle(agent.http).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      List<ConnectionListener> listeners = new ArrayList<>();
      var ledger = new dev.wmscope.agent.health.ConnectionLedger(); // how exiting workers' connections end
      listeners.add(ledger);
      var gatewayClients = new dev.wmscope.agent.topology.GatewayClients(); // client opens per Gateway
      listeners.add(gatewayClients);
      switch (config.output()) {
        case JSON -> listeners.add(new JsonLinesWriter(stdout));
        case TEXT -> listeners.add(new ConsoleWriter(stdout));
        case NONE -> {}
      }
      ProcScanner resolverProcs = new ProcScanner();
      ProcessDirectory[] self = new ProcessDirectory[1];
      ProcessDirectory directory = new ProcessDirectory(pid -> resolveWorker(resolverProcs, self[0], pid));
      self[0] = directory;
      InternalTraffic internal = new InternalTraffic(new LocalAddresses());
      ProcScanner procs = new ProcScanner();
      InodeOwners owners = new InodeOwners(Path.of("/proc"));
      // a reload replaces every worker pid: the counters of exited ones go after the retention
      ConnectionTelemetry connections = new ConnectionTelemetry(sdk, config.seriesRetention(), owners::running);
      SocketOwners sockets = new SocketOwners(owners, () -> ownerCandidates(directory, config, procs), directory);
      LiveState live = new LiveState(connections, directory, sockets, config.stallThreshold().toNanos());
      live.setHostTelemetry(new HostTelemetry(sdk, live));
      agent.live = live;
      SelfTelemetry.register(sdk.getMeterProvider(), agent::view, agent::kernelFeatures);
      // adoption of existing connections is only sound on the root: the iterator sees all cgroups
      boolean onRoot = CgroupV2.findMount().map(root -> root.equals(config.probe().cgroup())).orElse(false);
      TargetScanner scanner = new TargetScanner(config.selection(), procs, new ListeningPorts(Path.of("/proc")));
      AtomicReference<DiscoveryService> discovery = new AtomicReference<>();
      // the first pass runs as soon as the programs are attached, before start completes
      var adoption = new dev.wmscope.agent.selection.ClientAdoption(sockets, () -> watchedPids(directory, config),
          internal);
      Delivery delivery = new Delivery(new RecordMapper(new MonotonicClock(), directory, internal), sockets, live,
          listeners, requestTracker(sdk, config, agent, telemetry.spansExported()), adoption);
      var probe = new ProbeVerticle(config.probe(), attached -> {
        discovery.set(new DiscoveryService(scanner, new WatchReconciler(maps(attached)), directory, internal));
        discovery.get().pass();
        agent.discovered = discovery.get().firstPassDone();
      }, delivery, config.pollInterval(), onRoot);
      agent.probeVerticle = probe;
      vertx.deployVerticle(probe, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      agent.attached = true;
      agent.topology = new dev.wmscope.agent.topology.TopologyWatch(live::view, directory::live, gatewayClients,
          null);
      var gatewayTelemetry = new dev.wmscope.otel.GatewayTelemetry(sdk, agent.topology.telemetryView());
      agent.topology.listener(gatewayTelemetry::reconnected);
      dev.wmscope.agent.topology.TopologyWatch topology = agent.topology;
      vertx.setPeriodic(config.pollInterval().toMillis(), id -> vertx.executeBlocking(() -> {
        topology.tick();
        return null;
      }));
      agent.health = startHealth(config, directory, live, ledger, telemetry);
      if (agent.health != null) {
        WorkerHealth health = agent.health;
        vertx.setPeriodic(config.pollInterval().toMillis(), id -> vertx.executeBlocking(() -> {
          health.tick();
          return null;
        }));
      }
      vertx.setPeriodic(config.discoveryInterval().toMillis(), id ->
          vertx.executeBlocking(() -> {
            discovery.get().pass();
            agent.discovered |= discovery.get().firstPassDone();
            RequestStats stats = agent.requestStats;
            if (stats != null) {
              stats.retain(owners::running); // workers that exited (reloads) leave the figures
            }
            return null;
          }));
      return agent;
    } catch (ExecutionException e) {
      agent.close();
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (Exception e) {
      agent.close();
      throw e;
    }
  }

  /**
   * The worker health programs and their tick, or null when the kernel refuses them all or they
   * are switched off: connection tracking runs either way.
   */
  private static WorkerHealth startHealth(AgentConfig config, ProcessDirectory directory, LiveState live,
      dev.wmscope.agent.health.ConnectionLedger ledger, Telemetry telemetry) {
    WorkerHealth[] self = new WorkerHealth[1];
    java.util.Optional<WorkerHealthProbe> probe;
    try {
      probe = WorkerHealthProbe.start(config.probe().disabled(), e -> self[0].onEvent(e));
    } catch (dev.wmscope.loader.BpfException e) {
      LOG.log(System.Logger.Level.WARNING, "worker health is off: " + e.getMessage()
          + " (event-loop utilization, blocked workers and exit causes are not reported)");
      return null;
    }
    if (probe.isEmpty()) {
      return null;
    }
    probe.get().features().values().stream().filter(f -> !f.ok())
        .forEach(f -> LOG.log(System.Logger.Level.WARNING, "kernel feature " + f.describe()));
    self[0] = new WorkerHealth(probe.get(), directory::live, live::view, ledger, config.blockedThreshold());
    WorkerHealthTelemetry t = new WorkerHealthTelemetry(telemetry.sdk(), self[0]::gauges);
    telemetry.lateProducers().add(new dev.wmscope.agent.telemetry.BusyDurationProducer(self[0]::gauges));
    self[0].telemetry(t);
    return self[0];
  }

  /** The request framing and its listeners, or null when request capture is off (budget 0). */
  private static RequestTracker requestTracker(OpenTelemetrySdk sdk, AgentConfig config, Agent agent,
      boolean spansExported) {
    if (config.probe().captureBytes() == 0) {
      return null;
    }
    AgentConfig.Requests r = config.requests();
    RequestTelemetry telemetry = new RequestTelemetry(sdk, r.routes(), r.captureQuery(), r.captureUserAgent(),
        spansExported);
    RequestListener bridge = RequestListener.telemetry(telemetry);
    agent.requestStats = new RequestStats();
    agent.requests = new RequestTracker(new MonotonicClock(),
        RequestListener.all(List.of(bridge, agent.requestStats)));
    return agent.requests;
  }

  /**
   * A worker the last discovery pass did not see yet (just forked or reloaded), from its own
   * title and its parent's: the same identity the next pass will give it.
   */
  private static java.util.Optional<dev.wmscope.otel.WorkerIdentity> resolveWorker(ProcScanner procs,
      ProcessDirectory directory, long pid) {
    return procs.process((int) pid).flatMap(entry -> entry.title()
        .filter(t -> t instanceof dev.wmscope.agent.discovery.WorkermanTitle.Worker)
        .map(t -> (dev.wmscope.agent.discovery.WorkermanTitle.Worker) t)
        .map(w -> {
          var master = directory.lookup(entry.ppid());
          String startFile = master != null ? master.startFile() : procs.process(entry.ppid())
              .flatMap(dev.wmscope.agent.discovery.ProcEntry::title)
              .filter(t -> t instanceof dev.wmscope.agent.discovery.WorkermanTitle.Master)
              .map(t -> ((dev.wmscope.agent.discovery.WorkermanTitle.Master) t).startFile())
              .orElse("");
          return new dev.wmscope.otel.WorkerIdentity(w.name(), w.listen().isEmpty() ? "none" : w.listen(),
              entry.ppid(), startFile,
              dev.wmscope.agent.discovery.WorkermanRole.ofWorker(w.name(), w.listenUri()).attributeValue());
        }));
  }

  /** The processes wmscope watches: discovered Workerman processes and --pid ones. */
  private static Collection<Long> watchedPids(ProcessDirectory directory, AgentConfig config) {
    Set<Long> pids = new HashSet<>(directory.live().keySet());
    config.selection().pids().forEach(p -> pids.add((long) p));
    return pids;
  }

  /** Processes whose fds may hold a socket the kernel reported by inode. */
  private static Collection<Long> ownerCandidates(ProcessDirectory directory, AgentConfig config, ProcScanner procs) {
    Set<Long> pids = new HashSet<>(directory.live().keySet());
    config.selection().pids().forEach(p -> pids.add((long) p));
    if (pids.isEmpty()) {
      try {
        procs.pids().forEach(p -> pids.add((long) p)); // no Workerman and no --pid: look everywhere
      } catch (java.io.IOException e) {
        // /proc unreadable: owners stay unknown
      }
    }
    return pids;
  }

  /** Open connections, listeners and workers as the agent sees them now. */
  @Override
  public LiveState.View view() {
    LiveState l = live;
    return l == null ? EMPTY_VIEW : l.view();
  }

  @Override
  public List<String> notReady() {
    List<String> why = new ArrayList<>();
    if (stopping) {
      why.add("stopping");
    }
    if (!attached) {
      why.add("BPF programs not attached yet");
    }
    if (!discovered) {
      why.add("first discovery pass not done");
    }
    return why;
  }

  @Override
  public Map<KernelFeature, FeatureStatus> kernelFeatures() {
    ProbeVerticle p = probeVerticle;
    Map<KernelFeature, FeatureStatus> out = new java.util.EnumMap<>(KernelFeature.class);
    if (p != null) {
      out.putAll(p.features());
    }
    WorkerHealth h = health;
    if (h != null) {
      out.putAll(h.features());
    }
    return out;
  }

  @Override
  public List<WorkerHealth.Loop> workerLoops() {
    WorkerHealth h = health;
    return h == null ? List.of() : h.loops();
  }

  @Override
  public dev.wmscope.agent.topology.TopologyWatch topology() {
    return topology;
  }

  @Override
  public List<WorkerHealth.Event> lifecycleEvents() {
    WorkerHealth h = health;
    return h == null ? List.of() : h.events();
  }

  @Override
  public RequestStats.Snapshot requestStats() {
    RequestStats s = requestStats;
    return s == null ? RequestStats.Snapshot.EMPTY : s.snapshot();
  }

  @Override
  public RequestTracker.Counters requestCounters() {
    RequestTracker t = requests;
    return t == null ? null : t.counters();
  }

  @Override
  public HttpServerVerticle.ConnectionStats httpStats() {
    HttpServerVerticle h = http;
    return h == null ? null : h.connectionStats();
  }

  @Override
  public Map<String, Long> exportFailures() {
    return telemetry.exportHealth().failuresByExporter();
  }

  @Override
  public long spansDropped() {
    return telemetry.exportHealth().spansDropped();
  }

  @Override
  public long pollIntervalMillis() {
    return pollIntervalMillis;
  }

  @Override
  public boolean watchesAllWorkers() {
    return watchesAllWorkers;
  }

  /** What the agent's HTTP server serves: /metrics, the JSON API and health checks, the page. */
  private static List<HttpRoutes> httpRoutes(Telemetry telemetry, StatusSource status) {
    List<HttpRoutes> routes = new ArrayList<>();
    telemetry.prometheus().ifPresent(reader -> routes.add(new PrometheusRoutes(reader)));
    routes.add(new ApiRoutes(status));
    routes.add(new PageRoutes());
    return routes;
  }

  /**
   * Completes when connection tracking ended on its own (a failure of its poll loop): the
   * caller stops the agent with a non-zero exit. Never completes otherwise.
   */
  public java.util.concurrent.CompletionStage<Throwable> failure() {
    return probeVerticle == null ? new java.util.concurrent.CompletableFuture<>() : probeVerticle.failure();
  }

  /** The port the HTTP server listens on, or -1 without one. */
  public int httpPort() {
    return http == null ? -1 : http.actualPort();
  }

  /**
   * service.name when nothing configures one: the Workerman app being watched, if exactly one
   * (by name) runs now; apps started later cannot change it (see {@link ServiceNames}).
   */
  private static String defaultServiceName(Selection selection) {
    List<WorkermanApp> apps;
    try {
      apps = new ProcScanner().scan();
    } catch (java.io.IOException e) {
      return ServiceNames.FALLBACK;
    }
    List<WorkermanApp> watched = selection.workermanAuto() ? apps : apps.stream()
        .filter(a -> a.tcpListenPorts().stream().anyMatch(selection.ports()::contains)
            || selection.pids().contains(a.masterPid())
            || a.workerPids().stream().anyMatch(selection.pids()::contains))
        .toList();
    var name = ServiceNames.forApps(watched);
    if (name.isEmpty() && watched.size() > 1) {
      LOG.log(System.Logger.Level.INFO, "{0} Workerman apps with different names: service.name defaults to {1}"
          + " (set one with --service-name or OTEL_SERVICE_NAME)", watched.size(), ServiceNames.FALLBACK);
    }
    return name.orElse(ServiceNames.FALLBACK);
  }

  private static WatchReconciler.WatchMaps maps(ConnectionProbe probe) {
    return new WatchReconciler.WatchMaps() {
      @Override
      public void watchPort(int port) {
        probe.watchPort(port);
      }

      @Override
      public void watchPort(int port, boolean capture) {
        probe.watchPort(port, capture);
      }

      @Override
      public void unwatchPort(int port) {
        probe.unwatchPort(port);
      }

      @Override
      public void watchPid(int pid) {
        probe.watchPid(pid);
      }

      @Override
      public void unwatchPid(int pid) {
        probe.unwatchPid(pid);
      }
    };
  }

  /**
   * The most a stop takes, whatever the collector does (one that accepts and never answers
   * included): the probe and Vert.x get {@link #STOP_VERTX_SECONDS}, the SDK's final flush the
   * rest. What is not exported by then is lost, and the log says so.
   */
  public static final long STOP_BUDGET_SECONDS = 8;
  private static final long STOP_VERTX_SECONDS = 4;

  @Override
  public void close() {
    stopping = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_BUDGET_SECONDS);
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(STOP_VERTX_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, "stop Vert.x: " + e);
    }
    WorkerHealth h = health;
    if (h != null) {
      h.close(); // after Vert.x: no tick runs any more
    }
    long left = Math.max(TimeUnit.SECONDS.toMillis(1), TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    var flushed = sdk.shutdown().join(left, TimeUnit.MILLISECONDS);
    if (!flushed.isSuccess()) {
      LOG.log(System.Logger.Level.WARNING, "flush telemetry exporters: not confirmed within " + left
          + " ms (collector unreachable or not answering?); what was not exported is lost");
    }
  }
}
