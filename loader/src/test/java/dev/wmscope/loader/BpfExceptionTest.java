package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.BpfException.HostFacts;
import java.util.List;
import org.junit.jupiter.api.Test;

class BpfExceptionTest {
  private static final HostFacts ROOT_WITH_BTF = new HostFacts(true, true);
  private static final HostFacts USER_WITH_BTF = new HostFacts(true, false);
  private static final HostFacts ROOT_WITHOUT_BTF = new HostFacts(false, true);

  @Test
  void messageErrnoAndLogAreKept() {
    var e = BpfException.fromErrno("load BPF object x", 1, "Operation not permitted", List.of("libbpf: prog 'p': failed"));
    assertThat(e.getMessage()).isEqualTo("load BPF object x: EPERM (Operation not permitted)");
    assertThat(e.errno()).isEqualTo(1);
    assertThat(e.log()).containsExactly("libbpf: prog 'p': failed");
  }

  @Test
  void permissionErrorsOfAnUnprivilegedProcessNameTheCapabilities() {
    assertThat(BpfException.hintFor(1, USER_WITH_BTF)).contains("CAP_BPF").contains("root");
    assertThat(BpfException.hintFor(13, USER_WITH_BTF)).contains("CAP_BPF");
  }

  @Test
  void epermAsRootIsTheKernelsPolicyNotPrivilegesNorBtf() {
    // the 2026-12-02 kernel build: root, BTF present, a map-element iterator refused with EPERM
    String hint = BpfException.hintFor(1, ROOT_WITH_BTF);
    assertThat(hint).contains("policy").contains("lockdown").doesNotContain("BTF").doesNotContain("run as root");
    assertThat(BpfException.hintFor(13, ROOT_WITH_BTF)).contains("verifier").doesNotContain("BTF");
  }

  @Test
  void btfHintOnlyWhenBtfIsReallyAbsent() {
    assertThat(BpfException.hintFor(2, ROOT_WITHOUT_BTF)).contains("CONFIG_DEBUG_INFO_BTF");
    assertThat(BpfException.hintFor(22, ROOT_WITHOUT_BTF)).contains("CONFIG_DEBUG_INFO_BTF");
    assertThat(BpfException.hintFor(22, ROOT_WITH_BTF)).doesNotContain("CONFIG_DEBUG_INFO_BTF");
    assertThat(BpfException.hintFor(2, ROOT_WITH_BTF)).doesNotContain("BTF");
  }

  @Test
  void unknownErrnoStillReadable() {
    assertThat(BpfException.errnoName(4242)).isEqualTo("errno 4242");
    assertThat(BpfException.errnoName(95)).isEqualTo("EOPNOTSUPP");
  }
}
