package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.AgentConfig;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
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
    assertThat(c.selection().ports()).containsExactlyInAnyOrder(8080, 2346, 7272);
    assertThat(c.selection().workermanAuto()).isFalse();
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
  void noSelectionMeansEveryWorkermanApp() {
    AgentConfig c = parse("run");
    assertThat(c.selection().workermanAuto()).isTrue();
    assertThat(c.discoveryInterval()).isEqualTo(java.time.Duration.ofSeconds(1));
  }

  @Test
  void cgroupAloneSelectsEverythingInIt() {
    AgentConfig c = parse("run", "--cgroup", "/tmp");
    assertThat(c.selection().wholeCgroup()).isTrue();
    assertThat(c.probe().cgroup()).isEqualTo(java.nio.file.Path.of("/tmp"));
  }

  @Test
  void processNameIsARegex() {
    AgentConfig c = parse("run", "--process-name", "^php-fpm|nginx", "--cgroup", "/tmp");
    assertThat(c.selection().processName()).get().satisfies(p -> assertThat(p.matcher("nginx: worker").find()).isTrue());
    assertThat(run("run", "--process-name", "(unclosed")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("not a regular expression: Unclosed group").doesNotContain("Exception");
  }

  @Test
  void discoveryIntervalIsParsedAndBounded() {
    assertThat(parse("run", "--discovery-interval", "500ms", "--cgroup", "/tmp").discoveryInterval())
        .isEqualTo(java.time.Duration.ofMillis(500));
    assertThat(run("run", "--discovery-interval", "soon")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--discovery-interval soon");
    assertThat(run("run", "--discovery-interval", "10ms")).isEqualTo(ExitCodes.USAGE);
  }

  @Test
  void unknownFlagIsAUsageError() {
    assertThat(run("run", "--bogus")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("Unknown option").contains("--bogus");
  }

  @Test
  void aFlagErrorIsOneLineAndAPointerToHelpNotTheWholeUsage() {
    assertThat(run("run", "--poll-intervall=1s")).isEqualTo(ExitCodes.USAGE);
    List<String> lines = err.toString().lines().toList();
    assertThat(lines.getFirst()).startsWith("wmscope: Unknown option: '--poll-intervall=1s'");
    assertThat(lines).contains("try: wmscope run --help").hasSizeLessThanOrEqualTo(6); // + picocli's "Did you mean"
    assertThat(err.toString()).doesNotContain("Usage:");
  }

  @Test
  void anUnreadableOrEmptyTokenFileIsAUsageError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    assertThat(run("run", "--port", "80", "--cgroup", "/tmp", "--http-token-file", dir.resolve("none").toString()))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--http-token-file").contains("cannot read it");
    java.nio.file.Path empty = java.nio.file.Files.writeString(dir.resolve("empty"), "\n");
    assertThat(run("run", "--port", "80", "--cgroup", "/tmp", "--http-token-file", empty.toString()))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("the file is empty");
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
