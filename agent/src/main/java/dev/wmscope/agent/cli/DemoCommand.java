package dev.wmscope.agent.cli;

import dev.wmscope.agent.Agent;
import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.selection.Selection;
import dev.wmscope.agent.demo.DemoTraffic;
import dev.wmscope.agent.demo.EchoServer;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.ConnectionProbe;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `wmscope demo`: a loopback echo server, bounded traffic to it, and the agent printing every
 * connection it sees, so a new user sees real kernel numbers within seconds.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Run a loopback server, bounded traffic and the agent, printing each connection.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--connections", paramLabel = "N", description = "Connections to make (default: ${DEFAULT-VALUE}).")
  int connections = 40;

  @Option(names = "--seconds", paramLabel = "S", description = "Spread them over S seconds (default: ${DEFAULT-VALUE}).")
  int seconds = 8;

  @Override
  public Integer call() throws Exception {
    if (connections < 1 || connections > 100_000 || seconds < 1 || seconds > 3600) {
      throw new IllegalArgumentException("--connections must be 1..100000 and --seconds 1..3600");
    }
    try (EchoServer server = EchoServer.start()) {
      AgentConfig config = new AgentConfig(
          new ConnectionProbe.Options(CgroupV2.requireMount(), ConnectionProbe.Options.DEFAULT_MAX_CONNECTIONS,
              ConnectionProbe.Options.DEFAULT_RING_BUFFER_BYTES),
          new Selection(Set.of(server.port()), Set.of(), Optional.empty(), Optional.empty()),
          AgentConfig.Output.TEXT, AgentConfig.DEFAULT_DISCOVERY_INTERVAL, AgentConfig.DEFAULT_POLL_INTERVAL,
          AgentConfig.DEFAULT_STALL_THRESHOLD);
      System.err.printf("demo: echo server on 127.0.0.1:%d; %d connections over %d s%n",
          server.port(), connections, seconds);
      try (Agent agent = Agent.start(config, System.out)) {
        DemoTraffic.Summary sent = DemoTraffic.run(server.port(), connections, seconds);
        Thread.sleep(500); // let the last close records arrive
        System.err.printf("demo: client sent %d bytes and received %d bytes over %d connections;"
            + " compare with the rx/tx columns above%n", sent.bytesSent(), sent.bytesReceived(), sent.connections());
      }
    }
    return ExitCodes.OK;
  }
}
