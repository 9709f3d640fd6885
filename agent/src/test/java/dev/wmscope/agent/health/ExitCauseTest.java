package dev.wmscope.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.loader.HealthEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Exit causes from Workerman's signal protocol (Worker.php), without a kernel. */
class ExitCauseTest {
  private static final long MASTER = 100;

  private static HealthEvent exit(int status, int lastSignal, long sender, boolean oom) {
    return new HealthEvent(0, HealthEvent.Type.EXIT, 200, lastSignal, sender, status, 0, "php", 0, oom);
  }

  private static ExitCause.Sent sent(int sig, long from) {
    return new ExitCause.Sent(sig, from, "pid " + from + " (x)");
  }

  @Test
  void reloadAndStopAreTheMastersSignalsFollowedByAnExitOfItsOwn() {
    assertThat(ExitCause.of(exit(0, ExitCause.SIGUSR1, MASTER, false), List.of(sent(ExitCause.SIGUSR1, MASTER)),
        MASTER, "").cause()).isEqualTo("reload");
    assertThat(ExitCause.of(exit(0, ExitCause.SIGQUIT, MASTER, false), List.of(sent(ExitCause.SIGQUIT, MASTER)),
        MASTER, "").cause()).isEqualTo("stop");
  }

  @Test
  void statusAndConnectionsSignalsAreNeverACause() {
    List<ExitCause.Sent> status = List.of(sent(ExitCause.SIGABRT, MASTER), sent(ExitCause.SIGIO, MASTER));
    assertThat(ExitCause.of(exit(3 << 8, ExitCause.SIGIO, MASTER, false), status, MASTER, "").cause())
        .isEqualTo("error");
    assertThat(ExitCause.of(exit(0, ExitCause.SIGABRT, MASTER, false), status, MASTER, "").cause()).isEqualTo("exit");
  }

  @Test
  void sigkillFromTheMasterIsTheStopTimeoutFromAnyoneElseASignal() {
    ExitCause timeout = ExitCause.of(exit(ExitCause.SIGKILL, ExitCause.SIGKILL, MASTER, false),
        List.of(sent(ExitCause.SIGUSR1, MASTER), sent(ExitCause.SIGKILL, MASTER)), MASTER, "its master");
    assertThat(timeout.cause()).isEqualTo("stop_timeout");
    assertThat(timeout.detail()).isEqualTo("killed by SIGKILL from its master 100 (still running after the stop"
        + " timeout of SIGUSR1)");
    ExitCause other = ExitCause.of(exit(ExitCause.SIGKILL, ExitCause.SIGKILL, 555, false),
        List.of(sent(ExitCause.SIGKILL, 555)), MASTER, "pid 555 (kill -9 200)");
    assertThat(other.cause()).isEqualTo("signal");
    assertThat(other.detail()).isEqualTo("killed by SIGKILL from pid 555 (kill -9 200)");
  }

  @Test
  void oomCrashAndFatalErrors() {
    assertThat(ExitCause.of(exit(ExitCause.SIGKILL, ExitCause.SIGKILL, 0, true), List.of(), MASTER, "").cause())
        .isEqualTo("oom");
    ExitCause segv = ExitCause.of(exit(ExitCause.SIGSEGV | 0x80, ExitCause.SIGSEGV, 0, false), List.of(), MASTER,
        "the kernel");
    assertThat(segv.cause()).isEqualTo("crash");
    assertThat(segv.detail()).contains("SIGSEGV").contains("core dumped");
    assertThat(ExitCause.of(exit(255 << 8, 0, 0, false), List.of(), MASTER, "").detail())
        .contains("code 255").contains("PHP fatal error");
  }

  @Test
  void procNetTcpEndpointsDecode() {
    assertThat(ProcFacts.endpoint("0100007F:0CEA")).isEqualTo("127.0.0.1:3306");
    assertThat(ProcFacts.endpoint("00000000000000000000000001000000:1F90")).isEqualTo("[0:0:0:0:0:0:0:1]:8080");
  }
}
