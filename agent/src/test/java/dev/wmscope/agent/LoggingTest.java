package dev.wmscope.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LoggingTest {
  @Test
  void jsonLinesCarryTimeLevelLoggerAndMessage() {
    LogRecord r = new LogRecord(Level.WARNING, "worker {0} stalled");
    r.setParameters(new Object[] {"4711 (Chat)"});
    r.setLoggerName("dev.wmscope.agent.probe.LiveState");
    String line = new Logging.JsonFormatter().format(r);
    assertThat(line).endsWith(System.lineSeparator()).doesNotContain("\n" + "{");
    JsonObject j = new JsonObject(line.strip());
    assertThat(j.getString("level")).isEqualTo("WARN");
    assertThat(j.getString("logger")).isEqualTo("livestate");
    assertThat(j.getString("message")).isEqualTo("worker 4711 (Chat) stalled");
    assertThat(j.getString("time")).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(j.containsKey("error")).isFalse();
  }

  @Test
  void errorsKeepTheCauseOnOneLineWithoutAStackTrace() {
    LogRecord r = new LogRecord(Level.SEVERE, "poll ring buffer failed");
    r.setThrown(new IllegalStateException("boom"));
    String line = new Logging.JsonFormatter().format(r);
    assertThat(line.strip()).doesNotContain("\n");
    assertThat(new JsonObject(line).getString("error")).isEqualTo("java.lang.IllegalStateException: boom");
  }
}
