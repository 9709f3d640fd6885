package dev.wmscope.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-agent-per-host lock within one JVM (the second process case is in LifecycleKernelIT). */
class AgentLockTest {
  @TempDir Path dir;

  @Test
  void aSecondAcquireIsRefusedNamingTheFirst() throws IOException {
    Path file = dir.resolve("run/wmscope/wmscope.lock");
    Optional<AgentLock> first = AgentLock.acquire(file, "127.0.0.1:9464");
    assertThat(first).isPresent();
    assertThat(Files.readString(file)).contains("pid=" + ProcessHandle.current().pid(), "http=127.0.0.1:9464");
    assertThat(AgentLock.holder(file)).get().satisfies(h -> {
      assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid());
      assertThat(h.http()).isEqualTo("127.0.0.1:9464");
    });
    assertThatThrownBy(() -> AgentLock.acquire(file, "none"))
        .isInstanceOf(AgentLock.AlreadyRunning.class)
        .hasMessageContaining("another wmscope agent is already running on this host (pid "
            + ProcessHandle.current().pid() + ", HTTP 127.0.0.1:9464");
    first.get().close();
    first.get().close(); // idempotent
    assertThat(AgentLock.holder(file)).isEmpty();
    try (AgentLock again = AgentLock.acquire(file, "none").orElseThrow()) {
      assertThat(again.path()).isEqualTo(file);
    }
  }

  @Test
  void anUnusableLockFileIsAWarningNotAFailure() throws IOException {
    Path notADir = Files.writeString(dir.resolve("file"), "x");
    assertThat(AgentLock.acquire(notADir.resolve("wmscope.lock"), "none")).isEmpty();
  }

  @Test
  void holderParsesWhatTheAgentWrote() {
    AgentLock.Holder h = AgentLock.parse("pid=42\nhttp=[::1]:9464\nstarted=2026-01-01T00:00:00Z\n");
    assertThat(h).isEqualTo(new AgentLock.Holder(42, "[::1]:9464", "2026-01-01T00:00:00Z"));
    assertThat(AgentLock.parse("garbage").pid()).isZero();
    assertThat(AgentLock.holder(dir.resolve("missing"))).isEmpty();
  }
}
