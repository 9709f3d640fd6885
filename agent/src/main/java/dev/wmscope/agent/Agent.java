package dev.wmscope.agent;

import dev.wmscope.agent.output.ConsoleWriter;
import dev.wmscope.agent.output.JsonLinesWriter;
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
import dev.wmscope.agent.telemetry.OtelSetup;
import dev.wmscope.agent.telemetry.TelemetryListener;
import dev.wmscope.otel.ConnectionTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
public final class Agent implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Agent.class.getName());
  private static final long STOP_TIMEOUT_SECONDS = 5;

  private final OpenTelemetrySdk sdk;
  private final Vertx vertx;

  private Agent(OpenTelemetrySdk sdk, Vertx vertx) {
    this.sdk = sdk;
    this.vertx = vertx;
  }

  /** Starts everything and returns once the programs are attached; throws if they cannot be. */
  public static Agent start(AgentConfig config, PrintStream stdout) throws Exception {
    OpenTelemetrySdk sdk = OtelSetup.build(System::getenv, Map.of());
    Vertx vertx = Vertx.vertx();
    Agent agent = new Agent(sdk, vertx);
    try {
      List<ConnectionListener> listeners = new ArrayList<>();
      listeners.add(new TelemetryListener(new ConnectionTelemetry(sdk)));
      switch (config.output()) {
        case JSON -> listeners.add(new JsonLinesWriter(stdout));
        case TEXT -> listeners.add(new ConsoleWriter(stdout));
        case NONE -> {}
      }
      ProcessDirectory directory = new ProcessDirectory();
      InternalTraffic internal = new InternalTraffic(new LocalAddresses());
      TargetScanner scanner = new TargetScanner(config.selection(), new ProcScanner(), new ListeningPorts(Path.of("/proc")));
      AtomicReference<DiscoveryService> discovery = new AtomicReference<>();
      // the first pass runs as soon as the programs are attached, before start completes
      var probe = new ProbeVerticle(config.probe(), directory, internal, attached -> {
        discovery.set(new DiscoveryService(scanner, new WatchReconciler(maps(attached)), directory, internal));
        discovery.get().pass();
      }, listeners);
      vertx.deployVerticle(probe, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      vertx.setPeriodic(config.discoveryInterval().toMillis(), id ->
          vertx.executeBlocking(() -> {
            discovery.get().pass();
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

  private static WatchReconciler.WatchMaps maps(ConnectionProbe probe) {
    return new WatchReconciler.WatchMaps() {
      @Override
      public void watchPort(int port) {
        probe.watchPort(port);
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

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, "stop Vert.x: " + e);
    }
    var flushed = sdk.shutdown().join(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (!flushed.isSuccess()) {
      LOG.log(System.Logger.Level.WARNING, "flush telemetry exporters: not confirmed within "
          + STOP_TIMEOUT_SECONDS + " s (collector unreachable?)");
    }
  }
}
