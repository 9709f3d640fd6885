package dev.wmscope.agent.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RttHistogramTest {
  @Test
  void percentilesAreWithinTheBucketResolution() {
    RttHistogram h = new RttHistogram();
    for (long v = 1; v <= 10_000; v++) {
      h.add(v);
    }
    assertThat(h.count()).isEqualTo(10_000);
    assertThat((double) h.percentile(0.5)).isCloseTo(5_000, within(5_000 * 0.0625));
    assertThat((double) h.percentile(0.99)).isCloseTo(9_900, within(9_900 * 0.0625));
    assertThat(h.percentile(0.0001)).isEqualTo(1);
  }

  @Test
  void smallValuesAreExactAndEmptyIsZero() {
    RttHistogram h = new RttHistogram();
    assertThat(h.percentile(0.5)).isZero();
    h.add(3);
    h.add(5);
    h.add(0); // ignored: no sample
    assertThat(h.percentile(0.5)).isEqualTo(3);
    assertThat(h.percentile(1)).isEqualTo(5);
  }

  @Test
  void bucketsCoverHoursAndStayOrdered() {
    long prev = -1;
    for (int b = 0; b < RttHistogram.BUCKETS; b++) {
      long v = RttHistogram.value(b);
      assertThat(v).isGreaterThan(prev);
      assertThat(RttHistogram.bucket(v)).isEqualTo(b);
      prev = v;
    }
    assertThat(RttHistogram.bucket(3_600_000_000L)).isLessThan(RttHistogram.BUCKETS - 1);
  }

  @Test
  void mergingAddsCounts() {
    RttHistogram a = new RttHistogram();
    RttHistogram b = new RttHistogram();
    a.add(10);
    b.add(1000);
    b.add(1000);
    a.addAll(b);
    assertThat(a.count()).isEqualTo(3);
    assertThat((double) a.percentile(0.5)).isCloseTo(1000, within(63.0));
  }
}
