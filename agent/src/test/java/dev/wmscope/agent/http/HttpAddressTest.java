package dev.wmscope.agent.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HttpAddressTest {
  @Test
  void parsesHostPortForms() {
    assertThat(HttpAddress.parse("127.0.0.1:9464")).isEqualTo(new HttpAddress("127.0.0.1", 9464));
    assertThat(HttpAddress.parse("localhost:0")).isEqualTo(new HttpAddress("localhost", 0));
    assertThat(HttpAddress.parse("[::1]:9464")).isEqualTo(new HttpAddress("::1", 9464));
    assertThat(HttpAddress.parse(":9100")).isEqualTo(new HttpAddress("0.0.0.0", 9100));
  }

  @Test
  void printsAsInAUrl() {
    assertThat(new HttpAddress("::1", 9464)).hasToString("[::1]:9464");
    assertThat(HttpAddress.DEFAULT).hasToString("127.0.0.1:9464");
  }

  @Test
  void rejectsWhatIsNotAnAddress() {
    assertThatThrownBy(() -> HttpAddress.parse("9464")).hasMessageContaining("expected host:port");
    assertThatThrownBy(() -> HttpAddress.parse("::1:9464")).hasMessageContaining("brackets");
    assertThatThrownBy(() -> HttpAddress.parse("127.0.0.1:http")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> HttpAddress.parse("127.0.0.1:70000")).hasMessageContaining("0-65535");
  }
}
