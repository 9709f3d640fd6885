package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.ExportConfig;
import dev.wmscope.agent.Main;
import dev.wmscope.agent.config.ConfigLayers;
import dev.wmscope.agent.http.HttpAddress;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Settings from flags, WMSCOPE_* variables and the YAML file, in that order of precedence. */
class ConfigPrecedenceTest {
  @TempDir Path dir;
  private final StringWriter err = new StringWriter();
  private final StringWriter out = new StringWriter();

  private Path file(String yaml) throws IOException {
    Path f = dir.resolve("wmscope.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private static String[] args(Path config, String... rest) {
    List<String> a = new ArrayList<>(List.of(rest));
    if (config != null) {
      a.add(1, "--config");
      a.add(2, config.toString());
    }
    return a.toArray(String[]::new);
  }

  private static Object command(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(env, args);
    CommandLine.ParseResult r = cli.parseArgs(args);
    return r.subcommand().commandSpec().userObject();
  }

  private static AgentConfig agent(Map<String, String> env, String... args) {
    return ((RunCommand) command(env, args)).config();
  }

  private static ExportConfig export(Map<String, String> env, String... args) {
    return ((RunCommand) command(env, args)).export();
  }

  /** Runs to the point where configuration is checked; only invalid configurations are run. */
  private int execute(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(env, args);
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    return cli.execute(args);
  }

  @Test
  void flagsBeatEnvironmentBeatFileBeatDefaults() throws IOException {
    Path f = file("""
        # every layer sets poll-interval; only the file sets stall-threshold and discovery-interval
        poll-interval: 5s
        stall-threshold: 3s
        discovery-interval: 700ms
        """);
    Map<String, String> env = Map.of("WMSCOPE_POLL_INTERVAL", "4s", "WMSCOPE_DISCOVERY_INTERVAL", "600ms");

    AgentConfig flag = agent(env, args(f, "run", "--cgroup", "/tmp", "--poll-interval", "2s"));
    assertThat(flag.pollInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(flag.discoveryInterval()).isEqualTo(Duration.ofMillis(600));
    assertThat(flag.stallThreshold()).isEqualTo(Duration.ofSeconds(3));

    assertThat(agent(env, args(f, "run", "--cgroup", "/tmp")).pollInterval()).isEqualTo(Duration.ofSeconds(4));
    assertThat(agent(Map.of(), args(f, "run", "--cgroup", "/tmp")).pollInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(agent(Map.of(), args(null, "run", "--cgroup", "/tmp")).pollInterval()).isEqualTo(AgentConfig.DEFAULT_POLL_INTERVAL);
  }

  @Test
  void theFileCanBeNamedByTheEnvironmentAndWithAnEqualsSign() throws IOException {
    Path f = file("stall-threshold: 9s\n");
    assertThat(agent(Map.of("WMSCOPE_CONFIG", f.toString()), "run", "--cgroup", "/tmp").stallThreshold())
        .isEqualTo(Duration.ofSeconds(9));
    assertThat(agent(Map.of(), "run", "--config=" + f, "--cgroup", "/tmp").stallThreshold())
        .isEqualTo(Duration.ofSeconds(9));
  }

  @Test
  void listsBooleansEnumsAndExportSettings() throws IOException {
    Path f = file("""
        port: [8080, 2346]
        console: true
        http-address: "127.0.0.1:9555"
        otlp-endpoint: http://collector:4318
        service-name: chat
        trace-sample-ratio: 0.25
        """);
    AgentConfig c = agent(Map.of(), args(f, "run", "--cgroup", "/tmp"));
    assertThat(c.selection().ports()).containsExactlyInAnyOrder(8080, 2346);
    assertThat(c.output()).isEqualTo(AgentConfig.Output.TEXT);
    ExportConfig e = export(Map.of(), args(f, "run"));
    assertThat(e.http()).contains(new HttpAddress("127.0.0.1", 9555));
    assertThat(e.otelOverrides()).containsEntry("otel.exporter.otlp.endpoint", "http://collector:4318")
        .containsEntry("wmscope.service.name", "chat").containsEntry("otel.traces.sampler.arg", "0.25");

    Map<String, String> env = Map.of("WMSCOPE_PORT", "7000,7001", "WMSCOPE_FORMAT", "json");
    AgentConfig fromEnv = agent(env, args(f, "run", "--cgroup", "/tmp"));
    assertThat(fromEnv.selection().ports()).containsExactlyInAnyOrder(7000, 7001);
    assertThat(fromEnv.output()).isEqualTo(AgentConfig.Output.TEXT); // console: true still applies
    assertThat(agent(env, args(null, "run", "--cgroup", "/tmp")).output()).isEqualTo(AgentConfig.Output.JSON);
    // a flag replaces a list, it does not add to it
    assertThat(agent(env, args(f, "run", "--cgroup", "/tmp", "--port", "9")).selection().ports()).containsExactly(9);
  }

  @Test
  void unknownKeyIsRejectedWithTheClosestKnownOne() throws IOException {
    Path f = file("poll-interval: 1s\npoll-intreval: 2s\n");
    assertThat(execute(Map.of(), args(f, "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString())
        .contains("config " + f + " line 2: unknown key poll-intreval")
        .contains("did you mean poll-interval?")
        .doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void badValuesNameTheKeyTheSourceAndTheReason() throws IOException {
    Path f = file("max-connections: lots\n");
    assertThat(execute(Map.of(), args(f, "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains(f + " line 1: max-connections: lots: expected a whole number");

    err.getBuffer().setLength(0);
    assertThat(execute(Map.of("WMSCOPE_POLL_INTERVAL", "soon"), "run", "--cgroup", "/tmp")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("WMSCOPE_POLL_INTERVAL=soon: not a duration");

    err.getBuffer().setLength(0);
    Path g = file("format: yaml\n");
    assertThat(execute(Map.of(), args(g, "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("format: yaml: expected one of none, text, json");

    err.getBuffer().setLength(0);
    Path h = file("ring-buffer-bytes: 5000\n");
    assertThat(execute(Map.of(), args(h, "run", "--port", "80", "--cgroup", "/tmp"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains(h + " line 1: ring-buffer-bytes: 5000: must be a power of two");

    err.getBuffer().setLength(0);
    assertThat(execute(Map.of("WMSCOPE_CONSOLE", "maybe"), "run")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("WMSCOPE_CONSOLE=maybe: expected true or false");
  }

  @Test
  void invalidFilesAreRejectedWithTheReason() throws IOException {
    assertThat(execute(Map.of(), args(file("poll-interval: [1s\n"), "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("not valid YAML").contains("line ");

    err.getBuffer().setLength(0);
    assertThat(execute(Map.of(), args(file("export:\n  otlp-endpoint: x\n"), "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("export: expected a value, found a nested mapping");

    err.getBuffer().setLength(0);
    assertThat(execute(Map.of(), args(file("- port\n- 80\n"), "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("expected a mapping of settings");

    err.getBuffer().setLength(0);
    assertThat(execute(Map.of(), args(file("port: 1\nport: 2\n"), "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("duplicate key port");

    err.getBuffer().setLength(0);
    assertThat(execute(Map.of(), args(dir.resolve("missing.yaml"), "run"))).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("missing.yaml: no such file");
  }

  @Test
  void helpAndVersionWorkWithABrokenFile() throws IOException {
    Path f = file("bogus: 1\n");
    assertThat(execute(Map.of(), args(f, "run", "--help"))).isZero();
    assertThat(out.toString()).contains("--config=FILE").contains("--log-format");
  }

  @Test
  void anEmptyFileConfiguresNothing() throws IOException {
    assertThat(agent(Map.of(), args(file("# nothing yet\n"), "run", "--cgroup", "/tmp")).pollInterval())
        .isEqualTo(AgentConfig.DEFAULT_POLL_INTERVAL);
  }

  @Test
  void variablesOfOtherToolsWithThePrefixAreIgnored() {
    Map<String, String> env = Map.of("WMSCOPE_DEBUG", "1", "WMSCOPE_JAVA_OPTS", "-Xmx1g", "WMSCOPE_REQUIRE_KERNEL", "1");
    ConfigLayers layers = ConfigLayers.of(env, new String[] {"run"});
    layers.check(Main.commandLine(env, new String[] {"run"}).getCommandSpec()); // no exception
    assertThat(agent(env, "run", "--cgroup", "/tmp").pollInterval()).isEqualTo(AgentConfig.DEFAULT_POLL_INTERVAL);
  }

  @Test
  void otherCommandsTakeOnlyTheSharedSettings() throws IOException {
    Map<String, String> env = Map.of("WMSCOPE_HTTP_ADDRESS", "127.0.0.1:9999", "WMSCOPE_PORT", "8080");
    ConnectionsCommand c = (ConnectionsCommand) command(env, "connections");
    assertThat(c.agent.httpAddress).isEqualTo("127.0.0.1:9999");
    assertThat(c.port).as("connections --port is a filter, not the agent's setting").isNull();
    Path f = file("http-address: 127.0.0.1:9998\nlock-file: /tmp/x.lock\nlog-format: json\n");
    StatusCommand s = (StatusCommand) command(Map.of(), args(f, "status"));
    assertThat(s.agent.httpAddress).isEqualTo("127.0.0.1:9998");
    assertThat(s.agent.lockFile).isEqualTo(Path.of("/tmp/x.lock"));
    assertThat(s.logOptions.logFormat).isEqualTo(dev.wmscope.agent.Logging.Format.JSON);
  }

  @Test
  void envNamesFollowTheFlags() {
    assertThat(ConfigLayers.envName("poll-interval")).isEqualTo("WMSCOPE_POLL_INTERVAL");
    assertThat(ConfigLayers.envName("http-address")).isEqualTo("WMSCOPE_HTTP_ADDRESS");
  }
}
