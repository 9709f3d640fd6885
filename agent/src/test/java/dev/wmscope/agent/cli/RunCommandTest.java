package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RunCommandTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    return cli.execute(args);
  }

  private AgentConfig parse(String... args) {
    CommandLine cli = Main.commandLine();
    CommandLine.ParseResult result = cli.parseArgs(args);
    RunCommand run = (RunCommand) result.subcommand().commandSpec().userObject();
    return run.config();
  }

  @Test
  void portsRepeatOrSplitOnCommas() {
    AgentConfig c = parse("run", "--port", "8080", "--port", "2346,7272", "--cgroup", "/tmp", "--format", "JSON");
    assertThat(c.ports()).containsExactlyInAnyOrder(8080, 2346, 7272);
    assertThat(c.output()).isEqualTo(AgentConfig.Output.JSON);
  }

  @Test
  void consoleMeansText() {
    assertThat(parse("run", "--port", "1", "--cgroup", "/tmp", "--console").output()).isEqualTo(AgentConfig.Output.TEXT);
  }

  @Test
  void outOfRangePortIsAUsageError() {
    assertThat(run("run", "--port", "70000", "--cgroup", "/tmp")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--port 70000").contains("1-65535").doesNotContain("Exception");
  }

  @Test
  void nothingToWatchIsAUsageError() {
    assertThat(run("run", "--cgroup", "/tmp")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("nothing to watch");
  }

  @Test
  void unknownFlagIsAUsageError() {
    assertThat(run("run", "--bogus")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("Unknown option").contains("--bogus");
  }

  @Test
  void badRingBufferSizeNamesTheRule() {
    assertThat(run("run", "--port", "80", "--cgroup", "/tmp", "--ring-buffer-bytes", "1000")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("power of two");
  }

  @Test
  void missingCgroupDirectoryIsAUsageError() {
    assertThat(run("run", "--port", "80", "--cgroup", "/nonexistent/cg")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("/nonexistent/cg");
  }
}
