package dev.wmscope.agent.requests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BytesTest {
  private static int naiveIndexOf(byte[] b, byte c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private static int naiveIndexOfCrlf(byte[] b, int from, int to) {
    for (int i = from; i + 1 < to; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }

  @Test
  void indexOfAgreesWithAByteAtATimeScanOverEveryRange() {
    Random random = new Random(42);
    // small alphabets so that hits, misses, neighbours and bytes >= 0x80 all occur
    byte[] alphabet = {'\r', '\n', ':', ' ', 'a', (byte) 0x80, (byte) 0xff, 0, 0x01, (byte) 0x8a};
    for (int round = 0; round < 300; round++) {
      byte[] b = new byte[random.nextInt(40)];
      for (int i = 0; i < b.length; i++) {
        b[i] = alphabet[random.nextInt(random.nextBoolean() ? 4 : alphabet.length)];
      }
      for (int from = 0; from <= b.length; from++) {
        for (int to = from; to <= b.length; to++) {
          for (byte c : alphabet) {
            assertThat(Bytes.indexOf(b, c, from, to)).as("%s in [%d, %d)", c, from, to)
                .isEqualTo(naiveIndexOf(b, c, from, to));
          }
          assertThat(Bytes.indexOfCrlf(b, from, to)).as("CRLF in [%d, %d)", from, to)
              .isEqualTo(naiveIndexOfCrlf(b, from, to));
        }
      }
    }
  }

  @Test
  void aBareLineFeedIsNotALineEnd() {
    byte[] b = "Host: a\nX: b\r\n".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(Bytes.indexOfCrlf(b, 0, b.length)).isEqualTo(12);
    assertThat(Bytes.indexOfCrlf(b, 13, b.length)).isEqualTo(-1); // a CR outside the range does not count
  }
}
