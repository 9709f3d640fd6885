package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.FakeProc;
import dev.wmscope.agent.discovery.ProcScanner;
import dev.wmscope.agent.discovery.WorkermanApp;
import dev.wmscope.otel.WorkerIdentity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One discovery pass over a fake /proc: which ports and pids each kind of selection watches,
 * and how the next pass follows an app that stops or reloads.
 */
class TargetScannerTest {
  private static final String CHAT = "/srv/chat/start.php";
  private static final int SHELL = 700;
  private static final int MASTER = 1000;
  private static final int NGINX = 500;
  private static final int REDIS = 600;

  @TempDir
  Path tmp;

  private FakeProc proc;

  @BeforeEach
  void neighbours() {
    proc = new FakeProc(tmp);
    // Processes that are not Workerman, each with a listener of its own.
    proc.process(1, 0, "init", 1, "/sbin/init\0")
        .process(SHELL, 1, "bash", 10, "-bash\0")
        .process(NGINX, 1, "nginx", 20, "nginx: master process /usr/sbin/nginx\0")
        .process(REDIS, 1, "redis-server", 30, cmdline("/usr/bin/redis-server", "127.0.0.1:6379"))
        .listens(80, NGINX)
        .listens(6379, REDIS);
  }

  /** A chat app: master 1000, two gateway workers sharing the master's listener on 8282 and
   *  an internal port 2900 each (reusePort, not in the title), one business worker without a
   *  listener. */
  private void chatApp(int master, int... gateways) {
    proc.titled(master, SHELL, 100, "WorkerMan: master process  start_file=" + CHAT);
    for (int pid : gateways) {
      proc.titled(pid, master, 101, "WorkerMan: worker process  ChatGateway websocket://0.0.0.0:8282");
    }
    proc.titled(master + 50, master, 101, "WorkerMan: worker process  ChatBusinessWorker none");
    int[] holders = new int[gateways.length + 1];
    holders[0] = master;
    System.arraycopy(gateways, 0, holders, 1, gateways.length);
    proc.listens(8282, holders);
    for (int pid : gateways) {
      proc.listens(2900, pid);
    }
  }

  /** /proc/PID/cmdline of a process started with these arguments: each ends with a NUL. */
  private static String cmdline(String... args) {
    return String.join("\0", args) + "\0";
  }

  private TargetScanner scanner(Selection selection) {
    return new TargetScanner(selection, new ProcScanner(tmp), new ListeningPorts(tmp));
  }

  private static Selection auto() {
    return new Selection(Set.of(), Set.of(), Optional.empty(), Optional.empty());
  }

  @Test
  void workermanAutoWatchesTitlePortsSocketPortsAndWorkerPids() throws IOException {
    chatApp(MASTER, 1001, 1002);

    TargetScanner.Pass pass = scanner(auto()).scan();

    // 8282 from the titles, 2900 from the gateways' own sockets; nothing of nginx or redis
    assertThat(pass.targets().ports()).containsExactlyInAnyOrder(8282, 2900);
    // workers (outbound connections), not the master, not the neighbours
    assertThat(pass.targets().pids()).containsExactlyInAnyOrder(1001, 1002, 1050);
    assertThat(pass.apps()).extracting(WorkermanApp::key).containsExactly(new WorkermanApp.Key(MASTER, CHAT));
    assertThat(pass.targets().workers()).containsOnlyKeys(1000L, 1001L, 1002L, 1050L);
    assertThat(pass.targets().workers().get(1001L))
        .isEqualTo(new WorkerIdentity("ChatGateway", "websocket://0.0.0.0:8282", MASTER, CHAT, "gateway"));
    assertThat(pass.targets().workers().get(1050L))
        .isEqualTo(new WorkerIdentity("ChatBusinessWorker", "none", MASTER, CHAT, "business_worker"));
    assertThat(pass.targets().workers().get(1000L))
        .isEqualTo(new WorkerIdentity("", "", MASTER, CHAT, "master"));
  }

  @Test
  void workermanAutoWithoutAppsWatchesNothing() throws IOException {
    TargetScanner.Pass pass = scanner(auto()).scan();

    assertThat(pass.targets().ports()).isEmpty();
    assertThat(pass.targets().pids()).isEmpty();
    assertThat(pass.apps()).isEmpty();
  }

  @Test
  void explicitPortWatchesOnlyThatPortButStillNamesWorkers() throws IOException {
    chatApp(MASTER, 1001, 1002);

    TargetScanner.Pass pass = scanner(new Selection(Set.of(8080), Set.of(), Optional.empty(), Optional.empty())).scan();

    assertThat(pass.targets().ports()).containsExactly(8080);
    assertThat(pass.targets().pids()).isEmpty();
    // identities are still known: a worker that accepts on 8080 is named
    assertThat(pass.targets().workers()).containsOnlyKeys(1000L, 1001L, 1002L, 1050L);
  }

  @Test
  void pidAddsThePidAndItsListeningPorts() throws IOException {
    chatApp(MASTER, 1001, 1002);

    TargetScanner.Pass pass = scanner(new Selection(Set.of(), Set.of(REDIS), Optional.empty(), Optional.empty())).scan();

    assertThat(pass.targets().ports()).containsExactly(6379);
    assertThat(pass.targets().pids()).containsExactly(REDIS);
  }

  @Test
  void pidAndPortTogetherAreUnited() throws IOException {
    TargetScanner.Pass pass = scanner(new Selection(Set.of(9000), Set.of(NGINX), Optional.empty(), Optional.empty())).scan();

    assertThat(pass.targets().ports()).containsExactlyInAnyOrder(9000, 80);
    assertThat(pass.targets().pids()).containsExactly(NGINX);
  }

  @Test
  void pidThatIsGoneIsWatchedWithoutPorts() throws IOException {
    TargetScanner.Pass pass = scanner(new Selection(Set.of(), Set.of(4242), Optional.empty(), Optional.empty())).scan();

    assertThat(pass.targets().ports()).isEmpty();
    assertThat(pass.targets().pids()).containsExactly(4242);
  }

  @Test
  void processNameMatchesCommOrCommandLine() throws IOException {
    proc.process(800, SHELL, "php", 40, cmdline("php", "-S", "127.0.0.1:8000", "-t", "/srv/www")).listens(8000, 800)
        .process(801, SHELL, "my-server", 41, "/opt/bin/my-server\0").listens(9001, 801);

    // "redis" is in both comm and cmdline of 600; "8000" only in the cmdline of 800
    TargetScanner.Pass pass = scanner(new Selection(Set.of(), Set.of(), Optional.of(Pattern.compile("redis|:8000\\b")),
        Optional.empty())).scan();

    assertThat(pass.targets().pids()).containsExactlyInAnyOrder(REDIS, 800);
    assertThat(pass.targets().ports()).containsExactlyInAnyOrder(6379, 8000);

    // comm alone: the command line starts with /opt/bin/
    TargetScanner.Pass byComm = scanner(new Selection(Set.of(), Set.of(), Optional.of(Pattern.compile("^my-server$")),
        Optional.empty())).scan();
    assertThat(byComm.targets().pids()).containsExactly(801);
    assertThat(byComm.targets().ports()).containsExactly(9001);
  }

  @Test
  void processNameFollowsProcessesThatStartAndStop() throws IOException {
    TargetScanner scanner = scanner(new Selection(Set.of(), Set.of(), Optional.of(Pattern.compile("^php -S ")),
        Optional.empty()));
    assertThat(scanner.scan().targets().pids()).isEmpty();

    proc.process(800, SHELL, "php", 40, cmdline("php", "-S", "127.0.0.1:8000")).listens(8000, 800);
    assertThat(scanner.scan().targets().pids()).containsExactly(800);
    assertThat(scanner.scan().targets().ports()).containsExactly(8000);

    proc.remove(800);
    assertThat(scanner.scan().targets().pids()).isEmpty();
    assertThat(scanner.scan().targets().ports()).isEmpty();
  }

  @Test
  void processNameSeesTheCommandLineAsPsShowsIt() throws IOException {
    // arguments are NUL-separated in /proc/PID/cmdline and a title is NUL-padded; an operator
    // writes the regex against what ps shows: spaces, no padding
    proc.process(800, SHELL, "php", 40, cmdline("php", "-S", "127.0.0.1:8000", "-t", "/srv/www")).listens(8000, 800);
    chatApp(MASTER, 1001, 1002);

    assertThat(scanner(new Selection(Set.of(), Set.of(), Optional.of(Pattern.compile("-S 127\\.0\\.0\\.1:8000 -t")),
        Optional.empty())).scan().targets().pids()).containsExactly(800);
    assertThat(scanner(new Selection(Set.of(), Set.of(), Optional.of(Pattern.compile("ChatGateway websocket://0\\.0\\.0\\.0:8282$")),
        Optional.empty())).scan().targets().pids()).containsExactlyInAnyOrder(1001, 1002);
  }

  @Test
  void processNameNeverSelectsTheAgentItself() throws IOException {
    int self = (int) ProcessHandle.current().pid();
    proc.process(self, 1, "java", 5, cmdline("java", "-jar", "wmscope.jar", "run", "--process-name", "wmscope"));

    TargetScanner.Pass pass = scanner(new Selection(Set.of(), Set.of(), Optional.of(Pattern.compile("wmscope")),
        Optional.empty())).scan();

    assertThat(pass.targets().pids()).isEmpty();
  }

  @Test
  void httpAndWebSocketWorkersAreCapturedOtherProtocolsAreNot() throws IOException {
    chatApp(MASTER, 1001);
    proc.titled(2000, SHELL, 100, "WorkerMan: master process  start_file=/srv/api/start.php");
    proc.titled(2001, 2000, 101, "WorkerMan: worker process  Api http://0.0.0.0:8787");
    proc.titled(2002, 2000, 101, "WorkerMan: worker process  Push text://0.0.0.0:2347");
    proc.listens(8787, 2000, 2001).listens(2347, 2002);

    TargetScanner.Pass pass = scanner(auto()).scan();

    assertThat(pass.targets().ports()).contains(8282, 2900, 8787, 2347);
    assertThat(pass.targets().capturePorts()).as("websocket:// and http:// listeners, not text:// nor the"
        + " gateway's internal port").containsExactlyInAnyOrder(8282, 8787);
  }

  @Test
  void cgroupAloneWatchesEveryPortAndPid() throws IOException {
    chatApp(MASTER, 1001, 1002);

    TargetScanner.Pass pass = scanner(new Selection(Set.of(), Set.of(), Optional.empty(),
        Optional.of(Path.of("/sys/fs/cgroup/app.slice")))).scan();

    // key 0 is "any" in both kernel maps; the attach point bounds what the kernel sees; the
    // WebSocket worker's port has its own entry too, for its request-capture flag
    assertThat(pass.targets().ports()).containsExactlyInAnyOrder(0, 8282);
    assertThat(pass.targets().capturePorts()).containsExactly(8282);
    assertThat(pass.targets().pids()).containsExactly(0);
    assertThat(pass.targets().workers()).containsOnlyKeys(1000L, 1001L, 1002L, 1050L);
  }

  @Test
  void cgroupWithAnotherSelectorOnlyLimitsWhereItApplies() throws IOException {
    TargetScanner.Pass pass = scanner(new Selection(Set.of(8080), Set.of(), Optional.empty(),
        Optional.of(Path.of("/sys/fs/cgroup/app.slice")))).scan();

    assertThat(pass.targets().ports()).containsExactly(8080);
    assertThat(pass.targets().pids()).isEmpty();
  }

  @Test
  void anAppThatStopsLeavesTheNextPass() throws IOException {
    chatApp(MASTER, 1001, 1002);
    proc.titled(2000, SHELL, 200, "WorkerMan: master process  start_file=/srv/push/push.php")
        .titled(2001, 2000, 201, "WorkerMan: worker process  Push text://127.0.0.1:3131")
        .listens(3131, 2001);
    TargetScanner scanner = scanner(auto());
    TargetScanner.Pass before = scanner.scan();
    assertThat(before.targets().ports()).containsExactlyInAnyOrder(8282, 2900, 3131);
    assertThat(before.targets().pids()).containsExactlyInAnyOrder(1001, 1002, 1050, 2001);

    proc.remove(1001).remove(1002).remove(1050).remove(MASTER);
    TargetScanner.Pass after = scanner.scan();

    assertThat(after.targets().ports()).containsExactly(3131);
    assertThat(after.targets().pids()).containsExactly(2001);
    assertThat(after.targets().workers()).containsOnlyKeys(2000L, 2001L);
    assertThat(after.apps()).extracting(a -> a.key().startFile()).containsExactly("/srv/push/push.php");
  }

  @Test
  void reloadReplacesThePidsAndKeepsThePorts() throws IOException {
    chatApp(MASTER, 1001, 1002);
    TargetScanner scanner = scanner(auto());
    assertThat(scanner.scan().targets().pids()).containsExactlyInAnyOrder(1001, 1002, 1050);

    // reload: every worker replaced by a new pid; the new gateways inherit the shared listener
    // and open their own internal listeners again
    proc.remove(1001).remove(1002).remove(1050);
    for (int pid : new int[] {1101, 1102}) {
      proc.titled(pid, MASTER, 300, "WorkerMan: worker process  ChatGateway websocket://0.0.0.0:8282");
    }
    proc.titled(1150, MASTER, 300, "WorkerMan: worker process  ChatBusinessWorker none")
        .listens(8282, MASTER, 1101, 1102)
        .listens(2900, 1101)
        .listens(2900, 1102);
    TargetScanner.Pass after = scanner.scan();

    assertThat(after.targets().pids()).containsExactlyInAnyOrder(1101, 1102, 1150);
    assertThat(after.targets().ports()).containsExactlyInAnyOrder(8282, 2900);
    assertThat(after.targets().workers()).containsOnlyKeys(1000L, 1101L, 1102L, 1150L);
    assertThat(after.apps()).singleElement().satisfies(a -> assertThat(a.masterPid()).isEqualTo(MASTER));
  }
}
