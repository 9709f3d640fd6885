package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.ExportConfig;
import dev.wmscope.agent.Main;
import dev.wmscope.agent.http.HttpAddress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The export flags of `wmscope run` and the OpenTelemetry properties they set. */
class RunCommandExportTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    return cli.execute(args);
  }

  private static ExportConfig parse(String... args) {
    CommandLine.ParseResult result = Main.commandLine().parseArgs(args);
    return ((RunCommand) result.subcommand().commandSpec().userObject()).export();
  }

  @Test
  void noFlagsLeaveTheEnvironmentInChargeAndServeHttpOnLoopback() {
    ExportConfig e = parse("run");
    assertThat(e.otelOverrides()).isEmpty();
    assertThat(e.http()).contains(new HttpAddress("127.0.0.1", 9464));
  }

  @Test
  void flagsMapToOtelProperties() {
    ExportConfig e = parse("run", "--otlp-endpoint", "http://collector:4317", "--otlp-protocol", "grpc",
        "--traces-exporter", "otlp,zipkin", "--metrics-exporter", "console", "--metric-export-interval", "15s",
        "--span-export-delay", "500ms", "--trace-sample-ratio", "0.1", "--trace-slow-threshold", "2s",
        "--service-name", "chat");
    assertThat(e.otelOverrides()).isEqualTo(Map.of(
        "otel.exporter.otlp.endpoint", "http://collector:4317",
        "otel.exporter.otlp.protocol", "grpc",
        "otel.traces.exporter", "otlp,zipkin",
        "otel.metrics.exporter", "console",
        "otel.metric.export.interval", "15000",
        "otel.bsp.schedule.delay", "500",
        "otel.traces.sampler", "parentbased_traceidratio",
        "otel.traces.sampler.arg", "0.1",
        "wmscope.traces.slow.threshold", "2000",
        "wmscope.service.name", "chat"));
  }

  @Test
  void slowThresholdZeroTurnsTheRuleOff() {
    assertThat(parse("run", "--trace-slow-threshold", "0").otelOverrides())
        .containsEntry("wmscope.traces.slow.threshold", "0");
  }

  @Test
  void httpCanMoveOrBeTurnedOff() {
    assertThat(parse("run", "--http-address", "[::1]:9100").http()).contains(new HttpAddress("::1", 9100));
    assertThat(parse("run", "--http-address", "none").http()).isEmpty();
  }

  @Test
  void badExportFlagsAreUsageErrors() {
    assertThat(run("run", "--cgroup", "/tmp", "--otlp-protocol", "thrift")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--otlp-protocol thrift: use grpc or http/protobuf");
    assertThat(run("run", "--cgroup", "/tmp", "--trace-sample-ratio", "1.5")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--trace-sample-ratio 1.5: must be between 0 and 1");
    assertThat(run("run", "--cgroup", "/tmp", "--http-address", "9464")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--http-address 9464: expected host:port");
  }
}
