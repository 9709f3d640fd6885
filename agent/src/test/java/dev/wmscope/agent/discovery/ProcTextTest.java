package dev.wmscope.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProcTextTest {
  @Test
  void cleanTextIsReturnedAsItIs() {
    String s = "Chat Worker \u804a\u5929 text://0.0.0.0:2346";
    assertThat(ProcText.clean(s, 256)).isSameAs(s);
  }

  @Test
  void controlCharactersAreEscapedSoNoLineOrEscapeSequenceGetsThrough() {
    assertThat(ProcText.clean("evil\n2026-12-02 WARN forged", 256)).isEqualTo("evil\\n2026-12-02 WARN forged");
    assertThat(ProcText.clean("red\u001b[31mname", 256)).isEqualTo("red\\x1b[31mname");
    assertThat(ProcText.clean("a\rb\tc\u007fd\u0085e\u2028f", 256)).isEqualTo("a\\rb\\tc\\x7fd\\x85e\\u2028f");
    assertThat(ProcText.clean("x\n", 256)).doesNotContain("\n");
  }

  @Test
  void longTextIsCutWithAnEllipsisNeverInsideAnEscapeOrACharacter() {
    String tenK = "w".repeat(10_000);
    assertThat(ProcText.clean(tenK, 256)).hasSize(257).endsWith("\u2026");
    assertThat(ProcText.clean("ab\n", 3)).isEqualTo("ab\u2026"); // "\\n" would not fit
    String emoji = "a".repeat(255) + "\uD83D\uDE00"; // a surrogate pair across the limit
    String cut = ProcText.clean(emoji, 256);
    assertThat(cut).isEqualTo("a".repeat(255) + "\u2026");
  }

  @Test
  void titlesFromProcAreCleanedWhereTheyAreParsed() {
    byte[] cmdline = ("WorkerMan: master process  start_file=/srv/evil\n2026-12-02 WARN forged\0")
        .getBytes(StandardCharsets.UTF_8);
    var master = (WorkermanTitle.Master) WorkermanTitle.parse(cmdline).orElseThrow();
    assertThat(master.startFile()).isEqualTo("/srv/evil\\n2026-12-02 WARN forged");
    var worker = (WorkermanTitle.Worker) WorkermanTitle.parse(
        "WorkerMan: worker process  \u001b[31mRed " + "n".repeat(5000) + " text://127.0.0.1:2346").orElseThrow();
    assertThat(worker.name()).startsWith("\\x1b[31mRed nnn").hasSize(257);
    assertThat(worker.listen()).isEqualTo("text://127.0.0.1:2346");
    assertThat(new ProcEntry(1, 0, "php\nx", 0, "php\0x\0").comm()).isEqualTo("php\\nx");
  }
}
