package dev.wmscope.agent;

import dev.wmscope.agent.output.ConsoleWriter;
import dev.wmscope.agent.output.JsonLinesWriter;
import dev.wmscope.agent.probe.ConnectionListener;
import dev.wmscope.agent.probe.ProbeVerticle;
import dev.wmscope.agent.telemetry.OtelSetup;
import dev.wmscope.agent.telemetry.TelemetryListener;
import dev.wmscope.otel.ConnectionTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
      var probe = new ProbeVerticle(config.probe(), config.ports(), config.pids(), listeners);
      vertx.deployVerticle(probe, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      return agent;
    } catch (ExecutionException e) {
      agent.close();
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (Exception e) {
      agent.close();
      throw e;
    }
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
