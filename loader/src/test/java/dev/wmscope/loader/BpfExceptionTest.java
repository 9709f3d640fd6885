package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BpfExceptionTest {
  @Test
  void permissionErrorsNameTheCapabilities() {
    var e = BpfException.fromErrno("load BPF object x", 1, "Operation not permitted", List.of("libbpf: prog 'p': failed"));
    assertThat(e.getMessage()).isEqualTo("load BPF object x: EPERM (Operation not permitted)");
    assertThat(e.errno()).isEqualTo(1);
    assertThat(e.hint()).contains("CAP_BPF").contains("root");
    assertThat(e.log()).containsExactly("libbpf: prog 'p': failed");
  }

  @Test
  void missingBtfIsRecognisedFromTheLog() {
    var e = BpfException.fromErrno("load BPF object x", 2, "No such file or directory",
        List.of("libbpf: failed to find valid kernel BTF"  , "libbpf: Error loading vmlinux BTF: -2"));
    assertThat(e.hint()).contains("CONFIG_DEBUG_INFO_BTF");
  }

  @Test
  void unknownErrnoStillReadable() {
    assertThat(BpfException.errnoName(4242)).isEqualTo("errno 4242");
    assertThat(BpfException.errnoName(95)).isEqualTo("EOPNOTSUPP");
  }
}
