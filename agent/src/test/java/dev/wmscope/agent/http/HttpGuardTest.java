package dev.wmscope.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HttpGuardTest {
  @Test
  void loopbackNamesAndHostHeaders() {
    assertThat(HttpGuard.isLoopback("127.0.0.1")).isTrue();
    assertThat(HttpGuard.isLoopback("127.1.2.3")).isTrue();
    assertThat(HttpGuard.isLoopback("localhost")).isTrue();
    assertThat(HttpGuard.isLoopback("::1")).isTrue();
    assertThat(HttpGuard.isLoopback("0.0.0.0")).isFalse();
    assertThat(HttpGuard.isLoopback("attacker.example")).isFalse();
    assertThat(HttpGuard.hostPart("localhost:9464")).isEqualTo("localhost");
    assertThat(HttpGuard.hostPart("[::1]:9464")).isEqualTo("::1");
    assertThat(HttpGuard.hostPart("127.0.0.1")).isEqualTo("127.0.0.1");
    assertThat(HttpGuard.hostPart("localhost.:80")).isEqualTo("localhost");
    assertThat(HttpGuard.isLoopback(HttpGuard.hostPart("127.0.0.1.attacker.example:9464"))).isFalse();
  }
}
