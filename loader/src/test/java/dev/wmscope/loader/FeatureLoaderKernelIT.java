package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wmscope.loader.testing.KernelTest;
import dev.wmscope.loader.testing.KernelTestExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The feature probing against a real kernel refusal: bpf/test/feature_refusal.bpf.c holds a
 * program every verifier rejects, so these run the refusal path on any kernel, whatever it
 * allows of wmscope's own programs.
 */
@KernelTest
class FeatureLoaderKernelIT {
  /** An optional part of the test object. */
  record TestFeature(String id, List<String> programs, List<String> tracepoints, List<TestFeature> requires)
      implements FeatureLoader.Feature {
    static final TestFeature LOADS = new TestFeature("loads", List.of("wmt_loads"), List.of(), List.of());
    static final TestFeature REFUSED = new TestFeature("refused", List.of("wmt_refused"), List.of(), List.of());
    static final TestFeature NEEDS_REFUSED = new TestFeature("needs_refused", List.of(), List.of(), List.of(REFUSED));
    static final TestFeature NO_TRACEPOINT =
        new TestFeature("no_tracepoint", List.of(), List.of("wmscope_no_such_tracepoint"), List.of());
    static final List<TestFeature> ALL = List.of(LOADS, REFUSED, NEEDS_REFUSED, NO_TRACEPOINT);
  }

  private static byte[] elf() {
    try (InputStream in = FeatureLoaderKernelIT.class.getResourceAsStream("feature_refusal.bpf.o")) {
      assertThat(in).as("test object built by bpf/scripts/build.sh --tests").isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static FeatureLoader.Spec<TestFeature> spec(List<String> core) {
    return new FeatureLoader.Spec<>("feature_refusal.bpf.o", elf(), core, TestFeature.ALL, o -> {});
  }

  private static List<String> loadedTestPrograms() {
    return BpfSystem.programs().stream().map(BpfSystem.LoadedProgram::name).filter(n -> n.startsWith("wmt_")).toList();
  }

  @Test
  void aProgramTheKernelRefusesLosesItsFeatureAndWhatNeedsItTheRestLoads() {
    var loaded = FeatureLoader.load(spec(List.of("wmt_core")), Map.of(), BpfObject::kernelHasTracepoint);
    try (BpfObject object = loaded.object()) {
      assertThat(loaded.lost()).containsOnlyKeys(TestFeature.REFUSED, TestFeature.NEEDS_REFUSED, TestFeature.NO_TRACEPOINT);
      // the verifier's refusal, found by loading that program alone
      assertThat(loaded.lost().get(TestFeature.REFUSED)).isEqualTo("refused by the kernel: EACCES loading wmt_refused");
      assertThat(loaded.lost().get(TestFeature.NEEDS_REFUSED)).isEqualTo("needs refused, which is not available");
      assertThat(loaded.lost().get(TestFeature.NO_TRACEPOINT))
          .isEqualTo("not in this kernel: no wmscope_no_such_tracepoint tracepoint");
      // the whole object, the core alone, each feature with programs alone, the final object
      assertThat(loaded.loads()).isEqualTo(1 + 1 + 2 + 1);
      assertThat(loadedTestPrograms()).containsExactlyInAnyOrder("wmt_core", "wmt_loads");
      object.program("wmt_loads").attach(); // a loaded feature works
    }
    assertThat(awaitNoTestPrograms()).isEmpty();
  }

  /** Test programs still loaded after up to 5 s (a detached tracing program goes after an RCU grace period). */
  private static List<String> awaitNoTestPrograms() {
    return KernelTestExtension.awaitEmpty(FeatureLoaderKernelIT::loadedTestPrograms);
  }

  @Test
  void featuresSwitchedOffBeforeLoadCostOneLoad() {
    var loaded = FeatureLoader.load(spec(List.of("wmt_core")), Map.of(TestFeature.REFUSED, "turned off by the test"),
        BpfObject::kernelHasTracepoint);
    try (BpfObject ignored = loaded.object()) {
      assertThat(loaded.loads()).isOne();
      assertThat(loaded.lost()).containsEntry(TestFeature.REFUSED, "turned off by the test")
          .containsEntry(TestFeature.NEEDS_REFUSED, "needs refused, which is not available");
      assertThat(loadedTestPrograms()).containsExactlyInAnyOrder("wmt_core", "wmt_loads");
    }
  }

  @Test
  void aRefusedCoreProgramFailsTheLoadAndIsNamed() {
    assertThatThrownBy(() -> FeatureLoader.load(spec(List.of("wmt_core", "wmt_refused")), Map.of(),
        BpfObject::kernelHasTracepoint))
        .isInstanceOfSatisfying(BpfException.class, e -> {
          assertThat(e.errno()).isEqualTo(13);
          assertThat(e.getMessage()).isEqualTo("load BPF object feature_refusal.bpf.o: the kernel refused core program"
              + " wmt_refused: EACCES (Permission denied)");
          // root with BTF: neither the privileges nor the BTF hint
          assertThat(e.hint()).contains("verifier").doesNotContain("CONFIG_DEBUG_INFO_BTF").doesNotContain("run as root");
        });
    assertThat(awaitNoTestPrograms()).isEmpty();
  }
}
