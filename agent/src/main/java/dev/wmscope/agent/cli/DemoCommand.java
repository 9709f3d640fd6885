package dev.wmscope.agent.cli;

import dev.wmscope.agent.Agent;
import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.ExportConfig;
import dev.wmscope.agent.api.ApiJson;
import dev.wmscope.agent.demo.DemoTraffic;
import dev.wmscope.agent.demo.EchoServer;
import dev.wmscope.agent.demo.StandinApp;
import dev.wmscope.agent.demo.WorkermanTraffic;
import dev.wmscope.agent.http.HttpAddress;
import dev.wmscope.agent.selection.Selection;
import dev.wmscope.loader.CgroupV2;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.KernelFeature;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code wmscope demo}: the bundled Workerman stand-in (php-cli) with a text worker and an HTTP
 * worker, bounded loopback traffic, and the agent printing each connection and a status table,
 * so a new user sees real Workerman numbers within seconds. Without php-cli it falls back to a
 * Java echo server and says so.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Run a Workerman app (the bundled stand-in, needs php-cli), bounded traffic and the agent:",
        "one line per connection, then the status table. Needs root, like `wmscope run`."})
public final class DemoCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin LogOptions logOptions;

  @Option(names = "--connections", paramLabel = "N",
      description = "Short connections to make, besides 6 long-lived ones (default: ${DEFAULT-VALUE}).")
  int connections = 30;

  @Option(names = "--seconds", paramLabel = "S", description = "Spread the traffic over S seconds (default: ${DEFAULT-VALUE}).")
  int seconds = 6;

  @Option(names = "--http-address", paramLabel = "HOST:PORT",
      description = "Where the demo agent serves its page and API (default: a free loopback port).")
  String httpAddress = "127.0.0.1:0";

  @Option(names = "--keep", description = "After the traffic, keep the app and agent running (the page stays up) until Ctrl-C.")
  boolean keep;

  @Option(names = "--no-php", description = "Use the Java echo server even when php-cli is installed.")
  boolean noPhp;

  @Override
  public Integer call() throws Exception {
    logOptions.apply(Level.WARNING);
    if (connections < 1 || connections > 100_000) {
      throw Sources.bad(spec, "--connections", Integer.toString(connections), "must be 1-100000");
    }
    if (seconds < 1 || seconds > 3600) {
      throw Sources.bad(spec, "--seconds", Integer.toString(seconds), "must be 1-3600");
    }
    Optional<HttpAddress> http = AgentAddressOptions.address(spec, httpAddress);
    PrintStream out = System.out;
    Optional<Path> php = noPhp ? Optional.empty() : StandinApp.php();
    if (php.isEmpty()) {
      System.err.println("demo: " + (noPhp ? "--no-php" : "php-cli not found (apt-get install php-cli)")
          + ": using a Java echo server instead of the Workerman stand-in, so no worker names or per-worker rows");
      return echoDemo(http, out);
    }
    return workermanDemo(php.get(), http, out);
  }

  private AgentConfig config(Set<Integer> ports) {
    return new AgentConfig(
        new ConnectionProbe.Options(CgroupV2.requireMount(), ConnectionProbe.Options.DEFAULT_MAX_CONNECTIONS,
            ConnectionProbe.Options.DEFAULT_RING_BUFFER_BYTES, KernelFeature.disabledByEnvironment()),
        new Selection(ports, Set.of(), Optional.empty(), Optional.empty()),
        AgentConfig.Output.TEXT, Duration.ofMillis(500), Duration.ofMillis(500), AgentConfig.DEFAULT_STALL_THRESHOLD,
        AgentConfig.DEFAULT_SERIES_RETENTION);
  }

  private static Agent startAgent(AgentConfig config, Optional<HttpAddress> http, PrintStream out) throws Exception {
    Agent agent = Agent.start(config, new ExportConfig(Map.of(), http), out);
    if (agent.httpPort() > 0) {
      System.err.println("demo: live page http://" + new HttpAddress(http.orElseThrow().host(), agent.httpPort())
          + "/ (JSON under /api/, Prometheus at /metrics)");
    }
    return agent;
  }

  private int workermanDemo(Path php, Optional<HttpAddress> http, PrintStream out) throws Exception {
    int textPort = StandinApp.freePort();
    int httpPort = StandinApp.freePort();
    try (StandinApp app = StandinApp.start(php, "wmscope-demo", List.of(
        new StandinApp.WorkerDef("ChatWorker", "text://127.0.0.1:" + textPort, 2, true),
        new StandinApp.WorkerDef("ApiWorker", "http://127.0.0.1:" + httpPort, 2, false)))) {
      System.err.printf("demo: Workerman stand-in (php-cli) running: master %d, ChatWorker x2 on text://127.0.0.1:%d"
          + " (reusePort), ApiWorker x2 on http://127.0.0.1:%d (one shared socket)%n", app.masterPid(), textPort, httpPort);
      try (Agent agent = startAgent(config(Set.of(textPort, httpPort)), http, out)) {
        System.err.printf("demo: %d short and %d long-lived text connections plus HTTP keep-alive sessions over %d s;"
            + " one line per closed connection:%n", connections, 6, seconds);
        WorkermanTraffic.Summary sent = WorkermanTraffic.run(textPort, httpPort, connections, Duration.ofSeconds(seconds),
            () -> printStatus(out, agent, "halfway, with the long-lived connections open"));
        Thread.sleep(1_500); // the last close records and one more live read
        printStatus(out, agent, "after the traffic");
        JsonObject totals = ApiJson.status(agent).getJsonObject("totals");
        out.printf("clients: %s%nkernel:  %d connections closed, %d bytes received and %d sent by the workers%n",
            sent.describe(), totals.getLong("closed"), totals.getLong("bytes_in"), totals.getLong("bytes_out"));
        out.println(selfCounts(app, agent));
        out.flush();
        keepRunning(agent);
      }
    }
    return ExitCodes.OK;
  }

  /** Each worker's own count of accepted connections next to the kernel's. */
  private static String selfCounts(StandinApp app, Agent agent) {
    JsonArray workers = ApiJson.status(agent).getJsonArray("workers");
    StringBuilder s = new StringBuilder("workers: ");
    for (long pid : app.workerPids()) {
      long kernel = 0;
      String name = "?";
      for (int i = 0; i < workers.size(); i++) {
        JsonObject w = workers.getJsonObject(i);
        if (w.getLong("pid") == pid) {
          kernel = w.getLong("opened");
          name = w.getString("name", "?");
        }
      }
      long own = app.workerStats(pid).map(j -> j.getLong("accepted", 0L)).orElse(-1L);
      s.append(name).append(' ').append(pid).append(": kernel saw ").append(kernel).append(" opened, it accepted ")
          .append(own).append("; ");
    }
    return s.toString().replaceAll("; $", "");
  }

  private int echoDemo(Optional<HttpAddress> http, PrintStream out) throws Exception {
    try (EchoServer server = EchoServer.start();
        Agent agent = startAgent(config(Set.of(server.port())), http, out)) {
      System.err.printf("demo: Java echo server on 127.0.0.1:%d; %d connections over %d s%n", server.port(), connections, seconds);
      DemoTraffic.Summary sent = DemoTraffic.run(server.port(), connections, seconds);
      Thread.sleep(1_500);
      printStatus(out, agent, "after the traffic");
      out.printf("clients: %d connections, %d bytes sent and %d received; compare with the rx/tx columns above%n",
          sent.connections(), sent.bytesSent(), sent.bytesReceived());
      out.flush();
      keepRunning(agent);
    }
    return ExitCodes.OK;
  }

  private static void printStatus(PrintStream out, Agent agent, String when) {
    out.println();
    out.println("status " + when + " (`wmscope status` prints this for a running agent):");
    out.print(StatusText.render(ApiJson.status(agent), "this demo's agent", Instant.now()));
    out.println();
    out.flush();
  }

  private void keepRunning(Agent agent) throws InterruptedException {
    if (!keep) {
      return;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    System.err.println("demo: still running" + (agent.httpPort() > 0 ? " (the page stays up)" : "") + "; Ctrl-C to stop");
    stop.await();
  }
}
