package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner cache over a /proc tree built by the test (pid/fd/N -> "socket:[inode]"). */
class SocketOwnersTest {
  private final AtomicLong now = new AtomicLong();
  private final List<Long> candidates = new CopyOnWriteArrayList<>();

  @Test
  void aSocketHeldByNoCandidateIsAskedAgainOnceTheRecheckTimeHasPassed(@TempDir Path proc) throws Exception {
    fd(proc, 200, 7, 4242); // a worker just forked: it holds its link before it is a candidate
    var owners = new SocketOwners(new InodeOwners(proc), () -> List.copyOf(candidates), new ProcessDirectory(),
        now::get);
    assertThat(owners.holders(4242)).isEmpty();
    candidates.add(200L); // discovery made it a candidate
    now.addAndGet(SocketOwners.RECHECK_UNHELD_NANOS - 1);
    assertThat(owners.holders(4242)).as("cached a little longer").isEmpty();
    now.addAndGet(1);
    assertThat(owners.holders(4242)).containsExactly(200L);
    // a known holder stays cached: no more scans even when the process is gone from /proc
    Files.delete(proc.resolve("200/fd/7"));
    now.addAndGet(10 * SocketOwners.RECHECK_UNHELD_NANOS);
    assertThat(owners.holders(4242)).containsExactly(200L);
  }

  @Test
  void aSocketHeldByACandidateIsFoundAtOnce(@TempDir Path proc) throws Exception {
    fd(proc, 300, 3, 99);
    fd(proc, 301, 4, 99); // shared by two processes (a master's listener and its fork)
    candidates.addAll(List.of(300L, 301L));
    var owners = new SocketOwners(new InodeOwners(proc), () -> List.copyOf(candidates), new ProcessDirectory(),
        now::get);
    assertThat(owners.holders(99)).isEqualTo(Set.of(300L, 301L));
  }

  private static void fd(Path proc, long pid, int fd, long inode) throws Exception {
    Path dir = Files.createDirectories(proc.resolve(pid + "/fd"));
    Files.createSymbolicLink(dir.resolve(Integer.toString(fd)), Path.of("socket:[" + inode + "]"));
  }
}
