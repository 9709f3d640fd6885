package dev.wmscope.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcScannerTest {

    private static final String CHAT_MASTER = "WorkerMan: master process  start_file=/srv/chat/start.php";
    private static final String CHAT_WORKER = "WorkerMan: worker process  Chat Worker text://0.0.0.0:2347";
    private static final int SHELL = 700;

    @TempDir
    Path tmp;

    private FakeProc proc;
    private ProcScanner scanner;

    @BeforeEach
    void setUp() throws IOException {
        proc = new FakeProc(tmp);
        scanner = new ProcScanner(tmp);
        // The usual neighbours: init, a kernel thread, a shell, and a grep for the title.
        proc.process(1, 0, "init", 1, "/sbin/init\0")
                .process(2, 0, "kthreadd", 1, "")
                .process(SHELL, 1, "bash", 10, "-bash\0")
                .process(990, SHELL, "grep", 900, "grep\0WorkerMan: master process  start_file=/srv/chat/start.php\0");
        Files.createDirectories(tmp.resolve("self"));
        Files.createDirectories(tmp.resolve("sys"));
        Files.writeString(tmp.resolve("uptime"), "1.0 1.0\n");
    }

    @Test
    void oneAppWithFourWorkers() throws IOException {
        proc.titled(1000, SHELL, 100, CHAT_MASTER);
        for (int pid = 1001; pid <= 1004; pid++) {
            proc.titled(pid, 1000, 101, CHAT_WORKER);
        }

        List<WorkermanApp> apps = scanner.scan();

        assertThat(apps).hasSize(1);
        WorkermanApp app = apps.getFirst();
        assertThat(app.key()).isEqualTo(new WorkermanApp.Key(1000, "/srv/chat/start.php"));
        assertThat(app.masterSeen()).isTrue();
        assertThat(app.processTitle()).isEqualTo("WorkerMan");
        assertThat(app.workerPids()).containsExactly(1001, 1002, 1003, 1004);
        assertThat(app.tcpListenPorts()).containsExactly(2347);
        assertThat(app.workers()).allSatisfy(w -> {
            assertThat(w.masterPid()).isEqualTo(1000);
            assertThat(w.startFile()).isEqualTo("/srv/chat/start.php");
            assertThat(w.workerName()).isEqualTo("Chat Worker");
            assertThat(w.listen()).isEqualTo("text://0.0.0.0:2347");
            assertThat(w.role()).isEqualTo(WorkermanRole.WORKER);
            assertThat(w.tcpPort()).contains(2347);
        });
        assertThat(app.master()).contains(new WorkermanProcess(1000, 1000, "/srv/chat/start.php",
                WorkermanRole.MASTER, "", "", Optional.empty()));
        assertThat(app.processes()).extracting(WorkermanProcess::pid).containsExactly(1000, 1001, 1002, 1003, 1004);
    }

    @Test
    void daemonizedMasterIsAChildOfInit() throws IOException {
        // `start -d`: fork, setsid, fork; the shell's child and grandchild exit, init adopts.
        proc.titled(1200, 1, 100, CHAT_MASTER)
                .titled(1201, 1200, 101, CHAT_WORKER)
                .titled(1202, 1200, 101, CHAT_WORKER);

        List<WorkermanApp> apps = scanner.scan();

        assertThat(apps).singleElement().satisfies(app -> {
            assertThat(app.masterPid()).isEqualTo(1200);
            assertThat(app.masterSeen()).isTrue();
            assertThat(app.workerPids()).containsExactly(1201, 1202);
        });
    }

    @Test
    void statusCommandHelperIsNotASecondMaster() throws IOException {
        proc.titled(1200, 1, 100, CHAT_MASTER)
                .titled(1201, 1200, 101, CHAT_WORKER)
                .titled(1202, 1200, 101, CHAT_WORKER)
                // `php start.php status` (or stop, reload, connections) from the shell, later
                .titled(1500, SHELL, 5000, CHAT_MASTER);

        List<WorkermanApp> apps = scanner.scan();

        assertThat(apps).singleElement().satisfies(app -> {
            assertThat(app.masterPid()).isEqualTo(1200);
            assertThat(app.workerPids()).containsExactly(1201, 1202);
        });
    }

    @Test
    void masterWithoutWorkersYetIsStillAnApp() throws IOException {
        proc.titled(1300, SHELL, 100, CHAT_MASTER);

        assertThat(scanner.scan()).singleElement().satisfies(app -> {
            assertThat(app.key()).isEqualTo(new WorkermanApp.Key(1300, "/srv/chat/start.php"));
            assertThat(app.masterSeen()).isTrue();
            assertThat(app.workers()).isEmpty();
        });
    }

    @Test
    void amongMastersWithoutWorkersTheOldestIsTheApp() throws IOException {
        // During a stop: the workers are gone, the master has not exited yet, `stop` polls it.
        // The helper has the lower pid (pids wrap around) but started later.
        proc.titled(4000, 1, 100, CHAT_MASTER)
                .titled(30, SHELL, 9000, CHAT_MASTER);

        assertThat(scanner.scan()).singleElement()
                .satisfies(app -> assertThat(app.masterPid()).isEqualTo(4000));
    }

    @Test
    void twoAppsWithDifferentStartFiles() throws IOException {
        proc.titled(1000, 1, 100, CHAT_MASTER)
                .titled(1001, 1000, 101, CHAT_WORKER)
                .titled(2000, 1, 200, "WorkerMan: master process  start_file=/srv/api/start.php")
                .titled(2001, 2000, 201, "WorkerMan: worker process  webman http://0.0.0.0:8787")
                .titled(2002, 2000, 201, "WorkerMan: worker process  webman http://0.0.0.0:8787")
                .titled(2003, 2000, 201, "WorkerMan: worker process  monitor none")
                // a status helper of the second app
                .titled(2500, SHELL, 900, "WorkerMan: master process  start_file=/srv/api/start.php");

        List<WorkermanApp> apps = scanner.scan();

        assertThat(apps).extracting(WorkermanApp::key).containsExactly(
                new WorkermanApp.Key(1000, "/srv/chat/start.php"),
                new WorkermanApp.Key(2000, "/srv/api/start.php"));
        assertThat(apps.get(0).workerPids()).containsExactly(1001);
        assertThat(apps.get(1).workerPids()).containsExactly(2001, 2002, 2003);
        assertThat(apps.get(1).tcpListenPorts()).containsExactly(8787);
        assertThat(apps.get(1).workers()).extracting(WorkermanProcess::workerName)
                .containsExactly("webman", "webman", "monitor");
    }

    @Test
    void sameStartFileInTwoContainersIsTwoApps() throws IOException {
        String master = "WorkerMan: master process  start_file=/app/start.php";
        String worker = "WorkerMan: worker process  api http://0.0.0.0:8080";
        proc.titled(3000, 2990, 100, master).titled(3001, 3000, 101, worker)
                .titled(4000, 3990, 200, master).titled(4001, 4000, 201, worker);

        assertThat(scanner.scan()).extracting(WorkermanApp::key).containsExactly(
                new WorkermanApp.Key(3000, "/app/start.php"), new WorkermanApp.Key(4000, "/app/start.php"));
    }

    @Test
    void reloadReplacesWorkerPids() throws IOException {
        proc.titled(1000, 1, 100, CHAT_MASTER);
        for (int pid = 1001; pid <= 1004; pid++) {
            proc.titled(pid, 1000, 101, CHAT_WORKER);
        }
        WorkermanApp before = scanner.scan().getFirst();

        // SIGUSR1: Workerman replaces the workers one by one; a scan in the middle sees a mix.
        proc.remove(1001).titled(1101, 1000, 500, CHAT_WORKER).remove(1002).titled(1102, 1000, 501, CHAT_WORKER);
        assertThat(scanner.scan().getFirst().workerPids()).containsExactly(1003, 1004, 1101, 1102);

        proc.remove(1003).titled(1103, 1000, 502, CHAT_WORKER).remove(1004).titled(1104, 1000, 503, CHAT_WORKER);
        WorkermanApp after = scanner.scan().getFirst();

        assertThat(after.key()).isEqualTo(before.key());
        assertThat(after.workerPids()).containsExactly(1101, 1102, 1103, 1104).doesNotContainAnyElementsOf(
                before.workerPids());
    }

    @Test
    void masterStoppedAppDisappears() throws IOException {
        proc.titled(1000, 1, 100, CHAT_MASTER).titled(1001, 1000, 101, CHAT_WORKER);
        assertThat(scanner.scan()).hasSize(1);

        proc.remove(1001).remove(1000);

        assertThat(scanner.scan()).isEmpty();
    }

    @Test
    void gatewayWorkerApp() throws IOException {
        proc.titled(5000, 1, 100, "WorkerMan: master process  start_file=/srv/gw/start.php")
                .titled(5001, 5000, 101, "WorkerMan: worker process  Register text://0.0.0.0:1238")
                .titled(5002, 5000, 101, "WorkerMan: worker process  YourAppGateway websocket://0.0.0.0:7272")
                .titled(5003, 5000, 101, "WorkerMan: worker process  YourAppGateway websocket://0.0.0.0:7272")
                .titled(5004, 5000, 101, "WorkerMan: worker process  YourAppBusinessWorker none")
                .titled(5005, 5000, 101, "WorkerMan: worker process  YourAppBusinessWorker none");

        WorkermanApp app = scanner.scan().getFirst();

        assertThat(app.workers()).extracting(WorkermanProcess::role).containsExactly(
                WorkermanRole.REGISTER, WorkermanRole.GATEWAY, WorkermanRole.GATEWAY,
                WorkermanRole.BUSINESS_WORKER, WorkermanRole.BUSINESS_WORKER);
        assertThat(app.tcpListenPorts()).containsExactly(1238, 7272);
        assertThat(app.workers().get(3).listen()).isEqualTo("none");
        assertThat(app.workers().get(3).listenUri()).isEmpty();
    }

    @Test
    void indexesProcessesByPid() throws IOException {
        proc.titled(1000, 1, 100, CHAT_MASTER).titled(1001, 1000, 101, CHAT_WORKER)
                .titled(2000, 1, 200, "WorkerMan: master process  start_file=/srv/api/start.php")
                .titled(2001, 2000, 201, "WorkerMan: worker process  api http://0.0.0.0:8787");

        var index = WorkermanApps.byPid(scanner.scan());

        assertThat(index).containsOnlyKeys(1000, 1001, 2000, 2001);
        assertThat(index.get(1000).role()).isEqualTo(WorkermanRole.MASTER);
        assertThat(index.get(2001)).isEqualTo(new WorkermanProcess(2001, 2000, "/srv/api/start.php",
                WorkermanRole.WORKER, "api", "http://0.0.0.0:8787", ListenUri.parse("http://0.0.0.0:8787")));
    }

    @Test
    void workersOfAKilledMasterAreStillReported() throws IOException {
        // kill -9 on the master: workers keep serving, adopted by init.
        proc.titled(1001, 1, 101, CHAT_WORKER).titled(1002, 1, 101, CHAT_WORKER);

        assertThat(scanner.scan()).singleElement().satisfies(app -> {
            assertThat(app.masterSeen()).isFalse();
            assertThat(app.masterPid()).isEqualTo(1);
            assertThat(app.startFile()).isEmpty();
            assertThat(app.master()).isEmpty();
            assertThat(app.workerPids()).containsExactly(1001, 1002);
            assertThat(app.processes()).hasSize(2);
        });
    }

    @Test
    void processForkedInsideAWorkerBelongsToTheSameMaster() throws IOException {
        proc.titled(1000, 1, 100, CHAT_MASTER)
                .titled(1001, 1000, 101, CHAT_WORKER)
                .titled(1050, 1001, 300, CHAT_WORKER); // pcntl_fork() in application code

        assertThat(scanner.scan()).singleElement().satisfies(app -> {
            assertThat(app.masterPid()).isEqualTo(1000);
            assertThat(app.workerPids()).containsExactly(1001, 1050);
            assertThat(app.workers()).allSatisfy(w -> assertThat(w.masterPid()).isEqualTo(1000));
        });
    }

    @Test
    void truncatedTitlesFromAnEmptyEnvironment() throws IOException {
        // `env -i php start.php start`: PHP cuts titles to the 24-byte argv area.
        proc.process(6000, 1, "php", 100, "WorkerMan: master proce\0\0")
                .process(6001, 6000, "php", 101, "WorkerMan: worker proc\0\0")
                .process(6002, 6000, "php", 101, "WorkerMan: worker proc\0\0")
                // a truncated helper without workers is not an app
                .process(6500, SHELL, "php", 900, "WorkerMan: master proce\0\0");

        assertThat(scanner.scan()).singleElement().satisfies(app -> {
            assertThat(app.key()).isEqualTo(new WorkermanApp.Key(6000, ""));
            assertThat(app.masterSeen()).isTrue();
            assertThat(app.workerPids()).containsExactly(6001, 6002);
            assertThat(app.workers()).allSatisfy(w -> {
                assertThat(w.workerName()).isEmpty();
                assertThat(w.listenUri()).isEmpty();
                assertThat(w.role()).isEqualTo(WorkermanRole.WORKER);
            });
        });
    }

    @Test
    void vanishedAndUnreadableProcessesAreSkipped() throws IOException {
        proc.titled(1000, 1, 100, CHAT_MASTER).titled(1001, 1000, 101, CHAT_WORKER);
        // listed, then gone before its stat could be read
        Path half = Files.createDirectories(tmp.resolve("1002"));
        Files.writeString(half.resolve("cmdline"), CHAT_WORKER + "\0");
        // a stat line that is not one
        Path bad = Files.createDirectories(tmp.resolve("1003"));
        Files.writeString(bad.resolve("cmdline"), CHAT_WORKER + "\0");
        Files.writeString(bad.resolve("stat"), "garbage");

        assertThat(scanner.scan()).singleElement()
                .satisfies(app -> assertThat(app.workerPids()).containsExactly(1001));
        assertThat(scanner.process(1002)).isEmpty();
        assertThat(scanner.process(4242)).isEmpty();
    }

    @Test
    void processesListsEveryReadableProcess() throws IOException {
        proc.process(1000, SHELL, "a) (b", 100, "weird\0");

        List<ProcEntry> all = scanner.processes();

        assertThat(all).extracting(ProcEntry::pid).containsExactly(1, 2, SHELL, 990, 1000);
        assertThat(scanner.pids()).containsExactly(1, 2, SHELL, 990, 1000);
        ProcEntry weird = scanner.process(1000).orElseThrow();
        assertThat(weird.comm()).isEqualTo("a) (b");
        assertThat(weird.ppid()).isEqualTo(SHELL);
        assertThat(weird.startTicks()).isEqualTo(100);
        assertThat(weird.title()).isEmpty();
        assertThat(scanner.process(990).orElseThrow().displayCmdline())
                .isEqualTo("grep WorkerMan: master process  start_file=/srv/chat/start.php");
    }

    @Test
    void missingRootIsAnError() {
        ProcScanner missing = new ProcScanner(tmp.resolve("nope"));

        assertThatThrownBy(missing::scan).isInstanceOf(IOException.class).hasMessageStartingWith("list ");
    }

    @Test
    void parsesStatAfterTheLastParenthesis() {
        // as read from a stand-in worker on Linux 6.18
        String real = "8280 (php) R 8277 8277 6754 0 -1 4194304 1452 0 16 0 1 0 0 0 20 0 1 0 46529 68775936 4367"
                + " 18446744073709551615 94089035452416 94089038645277 140723122538256 0 0 0 0 4096 67127815 0 0 0"
                + " 17 1 0 0 0 0 0 94089039597320 94089040206030 94089072513024 140723122539232 140723122539251"
                + " 140723122539251 140723122540523 0\n";
        assertThat(ProcScanner.parseStat(real)).contains(new ProcScanner.Stat(8280, "php", 'R', 8277, 46529));
        assertThat(ProcScanner.parseStat(FakeProc.stat(42, "x) S 1 (y", 'S', 7, 99)))
                .contains(new ProcScanner.Stat(42, "x) S 1 (y", 'S', 7, 99));
        assertThat(ProcScanner.parseStat("1 (init) S 0")).contains(new ProcScanner.Stat(1, "init", 'S', 0, 0));
        assertThat(ProcScanner.parseStat("")).isEmpty();
        assertThat(ProcScanner.parseStat(null)).isEmpty();
        assertThat(ProcScanner.parseStat("12 (php")).isEmpty();
        assertThat(ProcScanner.parseStat("x (php) S 1")).isEmpty();
        assertThat(ProcScanner.parseStat("12 (php) S")).isEmpty();
    }
}
