package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/**
 * Hostile and broken input for the record decoders (kernel records are trusted, but a decoder
 * bug or a layout mismatch must end as a counted decode error, never as a crash of the poll
 * loop): arbitrary bytes of record size and of any size.
 */
class DecoderPropertiesTest {
  @Property(tries = 2000)
  void anyRecordSizedBytesDecodeOrFailWithTheDocumentedException(
      @ForAll @Size(min = 0, max = 256) byte[] raw) {
    byte[] padded = java.util.Arrays.copyOf(raw, (int) ConnEventLayout.LAYOUT.byteSize());
    try {
      ConnRecord r = ConnEventLayout.decode(MemorySegment.ofArray(padded));
      assertThat(r.comm()).hasSizeLessThanOrEqualTo(16);
      assertThat(r.localPort()).isBetween(0, 65535);
      assertThat(r.remotePort()).isBetween(0, 65535);
      assertThat(r.pid()).isNotNegative();
    } catch (IllegalArgumentException expected) {
      // an unknown event type or side: counted as a decode error by the probe
    }
  }

  @Property(tries = 2000)
  void tooShortRecordsAreRefusedNotReadPastTheirEnd(@ForAll @Size(max = 300) byte[] raw) {
    net.jqwik.api.Assume.that(raw.length < ConnEventLayout.LAYOUT.byteSize());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConnEventLayout.decode(MemorySegment.ofArray(raw)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Property(tries = 2000)
  void anyIteratorOutputParsesWithoutThrowing(@ForAll @Size(max = 2048) byte[] pass) {
    LiveSnapshot s = IterLayouts.parse(pass, 42);
    assertThat(s.monoNanos()).isEqualTo(42);
    long records = s.connections().size() + s.listeners().size();
    assertThat(records * Math.min(IterLayouts.LIVE_CONN.byteSize(), IterLayouts.LISTENER.byteSize()))
        .as("never more records than the bytes hold").isLessThanOrEqualTo(pass.length);
  }
}
