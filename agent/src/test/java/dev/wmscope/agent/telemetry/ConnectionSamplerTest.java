package dev.wmscope.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConnectionSamplerTest {
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  private static final AttributeKey<Long> RETRANSMITS = AttributeKey.longKey("wmscope.tcp.retransmits");
  private static final AttributeKey<Double> DURATION_MS = AttributeKey.doubleKey("wmscope.connection.duration_ms");
  private static final AttributeKey<String> CLOSE_CAUSE = AttributeKey.stringKey("wmscope.close.cause");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  /** Base sampler that drops everything: what is kept is kept by the rule alone. */
  private final ConnectionSampler sampler = new ConnectionSampler(Sampler.alwaysOff(), Duration.ofSeconds(10));

  private static Attributes healthy() {
    return Attributes.builder().put(RETRANSMITS, 0L).put(DURATION_MS, 1.5).put(CLOSE_CAUSE, "fin_peer").build();
  }

  private SamplingDecision decide(ConnectionSampler s, Attributes a) {
    return s.shouldSample(Context.root(), TRACE_ID, "tcp 127.0.0.1:8080", SpanKind.SERVER, a, List.of()).getDecision();
  }

  @Test
  void healthyShortConnectionsFollowTheBaseSampler() {
    assertThat(decide(sampler, healthy())).isEqualTo(SamplingDecision.DROP);
    assertThat(decide(new ConnectionSampler(Sampler.alwaysOn(), Duration.ofSeconds(10)), healthy()))
        .isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
  }

  @Test
  void slowAndFailedRequestsAreKeptFastHealthyOnesFollowTheBase() {
    AttributeKey<Double> httpMs = AttributeKey.doubleKey("wmscope.http.duration_ms");
    AttributeKey<Long> status = AttributeKey.longKey("http.response.status_code");
    Attributes fast = Attributes.builder().put(httpMs, 12.0).put(status, 200L).build();
    assertThat(decide(sampler, fast)).isEqualTo(SamplingDecision.DROP);
    assertThat(decide(sampler, fast.toBuilder().put(httpMs, 1000.0).build()))
        .as("1 s, though the connection threshold is 10 s").isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
    assertThat(decide(sampler, fast.toBuilder().put(status, 503L).put(ERROR_TYPE, "503").build()))
        .isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
    ConnectionSampler strict = new ConnectionSampler(Sampler.alwaysOff(), Duration.ofMillis(200));
    assertThat(decide(strict, fast.toBuilder().put(httpMs, 250.0).build()))
        .as("a lower slow threshold applies to requests too").isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
  }

  @Test
  void anyRetransmitKeepsTheConnection() {
    assertThat(decide(sampler, healthy().toBuilder().put(RETRANSMITS, 1L).build()))
        .isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"rst_sent", "rst_received", "timeout", "refused"})
  void abnormalClosesAreKept(String cause) {
    assertThat(decide(sampler, healthy().toBuilder().put(CLOSE_CAUSE, cause).build()))
        .isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"fin_local", "fin_peer"})
  void orderlyClosesAreNot(String cause) {
    assertThat(decide(sampler, healthy().toBuilder().put(CLOSE_CAUSE, cause).build())).isEqualTo(SamplingDecision.DROP);
  }

  @Test
  void anErrorTypeKeepsTheConnection() {
    assertThat(decide(sampler, healthy().toBuilder().put(ERROR_TYPE, "connection_reset").build()))
        .isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
  }

  @Test
  void connectionsAtLeastTheThresholdLongAreKept() {
    assertThat(decide(sampler, healthy().toBuilder().put(DURATION_MS, 10_000.0).build()))
        .isEqualTo(SamplingDecision.RECORD_AND_SAMPLE);
    assertThat(decide(sampler, healthy().toBuilder().put(DURATION_MS, 9_999.999).build()))
        .isEqualTo(SamplingDecision.DROP);
  }

  @Test
  void aZeroThresholdTurnsTheSlowRuleOff() {
    ConnectionSampler noSlow = new ConnectionSampler(Sampler.alwaysOff(), Duration.ZERO);
    assertThat(decide(noSlow, healthy().toBuilder().put(DURATION_MS, 86_400_000.0).build()))
        .isEqualTo(SamplingDecision.DROP);
    assertThat(noSlow.getDescription()).isEqualTo("WmscopeConnectionSampler{keep=errors,retransmits,else=AlwaysOffSampler}");
  }

  @Test
  void spansWithoutConnectionAttributesFollowTheBaseSampler() {
    assertThat(decide(sampler, Attributes.empty())).isEqualTo(SamplingDecision.DROP);
  }

  @Test
  void aNegativeThresholdIsRejected() {
    assertThatThrownBy(() -> new ConnectionSampler(Sampler.alwaysOn(), Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
