package dev.wmscope.agent.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.selection.InodeOwners;
import dev.wmscope.agent.selection.InternalTraffic;
import dev.wmscope.agent.selection.LocalAddresses;
import dev.wmscope.agent.selection.ProcessDirectory;
import dev.wmscope.agent.selection.SocketOwners;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.otel.ConnectionEvent;
import dev.wmscope.otel.ConnectionTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * When the poll loop dies of something no listener guard catches (an Error: a bug, or the heap
 * exhausted), connection tracking ends visibly: the failure is handed on (the run command then
 * stops the agent with exit code 1 for its service manager to restart) and the programs are
 * detached (the kernel-test extension checks that none is left), instead of an agent that keeps
 * serving figures it no longer updates.
 */
@KernelTest
class ProbeFailureKernelIT {
  @Test
  void anErrorInThePollLoopEndsTrackingAndIsHandedOn() throws Exception {
    var directory = new ProcessDirectory();
    var owners = new SocketOwners(new InodeOwners(Path.of("/proc")), List::of, directory);
    var live = new LiveState(new ConnectionTelemetry(OpenTelemetry.noop()), directory, owners,
        Duration.ofSeconds(5).toNanos());
    ConnectionListener bug = new ConnectionListener() {
      @Override
      public void opened(ConnectionEvent event) {
        throw new AssertionError("a listener's bug");
      }

      @Override
      public void closed(ConnectionEvent event) {}
    };
    var delivery = new Delivery(new RecordMapper(new MonotonicClock(), directory,
        new InternalTraffic(new LocalAddresses())), owners, live, List.of(bug), null);
    Vertx vertx = Vertx.vertx();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      var probe = new ProbeVerticle(ConnectionProbe.Options.defaults(), p -> p.watchPort(server.getLocalPort()),
          delivery, Duration.ofMillis(200), false);
      vertx.deployVerticle(probe, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
          Socket accepted = server.accept()) {
        client.getOutputStream().write(1);
        assertThat(accepted.getInputStream().read()).isEqualTo(1);
      }
      Throwable why = probe.failure().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(why).isInstanceOf(AssertionError.class).hasMessage("a listener's bug");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
