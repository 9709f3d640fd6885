package dev.wmscope.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery against the real {@code /proc}, with the PHP Workerman stand-in running. Needs
 * php-cli (with pcntl and posix), no privileges; skipped only when php is not installed.
 */
class StandinDiscoveryTest {

    private static final Duration READY = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    @BeforeAll
    static void needsPhp() {
        assumeTrue(WorkermanStandin.phpExecutable().isPresent(), "php is not installed");
    }

    @Test
    void findsMasterAndFourReusePortWorkers() throws Exception {
        int port = WorkermanStandin.freePort();
        String listen = "text://127.0.0.1:" + port;
        try (WorkermanStandin standin = WorkermanStandin.create(dir,
                List.of(WorkermanStandin.worker("Chat Worker", listen, 4, true)))) {
            List<Integer> workers = standin.start(false).awaitWorkers(4, Set.of(), READY);

            WorkermanApp app = appOf(standin);

            assertThat(app.masterPid()).isEqualTo(standin.masterPid());
            assertThat(app.masterSeen()).isTrue();
            assertThat(app.workerPids()).containsExactlyInAnyOrderElementsOf(workers);
            assertThat(app.tcpListenPorts()).containsExactly(port);
            assertThat(app.workers()).allSatisfy(w -> {
                assertThat(w.workerName()).isEqualTo("Chat Worker");
                assertThat(w.listen()).isEqualTo(listen);
                assertThat(w.role()).isEqualTo(WorkermanRole.WORKER);
                assertThat(w.masterPid()).isEqualTo(standin.masterPid());
                assertThat(w.startFile()).isEqualTo(standin.startFile());
            });
            // The bytes the kernel shows: the exact title, then NUL padding.
            byte[] raw = Files.readAllBytes(Path.of("/proc", workers.getFirst().toString(), "cmdline"));
            String title = "WorkerMan: worker process  Chat Worker " + listen;
            assertThat(new String(raw, StandardCharsets.UTF_8)).startsWith(title + "\0").matches("[^\0]*\0+");
            assertThat(Files.readString(Path.of("/proc", workers.getFirst().toString(), "comm")).strip())
                    .isEqualTo("php");

            // Every connection is accepted by exactly one of the four workers, which count them.
            int connections = 12;
            for (int i = 0; i < connections; i++) {
                assertThat(echo(port, "hello " + i)).isEqualTo("hello " + i);
            }
            int accepted = WorkermanStandin.await(READY, "the workers to count " + connections + " connections", () -> {
                int sum = workers.stream().mapToInt(p -> standin.workerStats(p)
                        .map(s -> s.getInteger("closed")).orElse(0)).sum();
                return sum == connections ? sum : null;
            });
            assertThat(accepted).isEqualTo(connections);

            // `stop`: the app disappears.
            assertThat(standin.run(READY, "stop")).isZero();
            WorkermanStandin.await(READY, "the app to disappear", () -> find(standin).isEmpty() ? true : null);
        }
    }

    @Test
    void findsDaemonWithSharedListenerAndListenerlessWorker() throws Exception {
        int port = WorkermanStandin.freePort();
        try (WorkermanStandin standin = WorkermanStandin.create(dir, List.of(
                WorkermanStandin.worker("api", "http://127.0.0.1:" + port, 2, false),
                WorkermanStandin.worker("YourAppBusinessWorker", null, 1, false)))) {
            standin.start(true).awaitWorkers(3, Set.of(), READY);
            int master = standin.masterPid();

            ProcEntry masterProc = new ProcScanner().process(master).orElseThrow();
            WorkermanApp app = appOf(standin);

            // Double fork: the master is not a child of the process that ran `start -d`.
            assertThat(masterProc.ppid()).isNotEqualTo((int) ProcessHandle.current().pid());
            assertThat(masterProc.title()).contains(new WorkermanTitle.Master("WorkerMan", standin.startFile(), false));
            assertThat(standin.masterJson().orElseThrow().getBoolean("daemon")).isTrue();
            assertThat(app.masterPid()).isEqualTo(master);
            assertThat(app.workers()).extracting(WorkermanProcess::workerName, WorkermanProcess::listen,
                            WorkermanProcess::role)
                    .containsExactlyInAnyOrder(
                            tuple("api", "http://127.0.0.1:" + port, WorkermanRole.WORKER),
                            tuple("api", "http://127.0.0.1:" + port, WorkermanRole.WORKER),
                            tuple("YourAppBusinessWorker", "none",
                                    WorkermanRole.BUSINESS_WORKER));
            assertThat(app.tcpListenPorts()).containsExactly(port);
            assertThat(httpStatusLine(port)).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    @Test
    void statusCommandHelperIsNotASecondApp() throws Exception {
        int port = WorkermanStandin.freePort();
        try (WorkermanStandin standin = WorkermanStandin.create(dir,
                List.of(WorkermanStandin.worker("Chat Worker", "text://127.0.0.1:" + port, 2, true)))) {
            standin.start(false).awaitWorkers(2, Set.of(), READY);
            // `status -d` refreshes every second until stopped: a long-lived helper with the
            // master's title, as in production.
            Process helper = standin.command("status", "-d");
            ProcScanner proc = new ProcScanner();
            WorkermanStandin.await(READY, "the status helper to take the master title", () ->
                    proc.process((int) helper.pid()).flatMap(ProcEntry::title).isPresent() ? true : null);

            List<WorkermanApp> apps = proc.scan().stream()
                    .filter(a -> a.startFile().equals(standin.startFile())).toList();

            assertThat(apps).singleElement().satisfies(app -> {
                assertThat(app.masterPid()).isEqualTo(standin.masterPid()).isNotEqualTo((int) helper.pid());
                assertThat(app.workers()).hasSize(2);
            });
            helper.destroy();
        }
    }

    @Test
    void reloadAndCrashReplaceWorkerPids() throws Exception {
        int port = WorkermanStandin.freePort();
        try (WorkermanStandin standin = WorkermanStandin.create(dir,
                List.of(WorkermanStandin.worker("Chat Worker", "text://127.0.0.1:" + port, 4, true)))) {
            Set<Integer> first = new HashSet<>(standin.start(false).awaitWorkers(4, Set.of(), READY));
            assertThat(appOf(standin).workerPids()).isEqualTo(first);

            assertThat(standin.run(READY, "reload")).isZero();
            Set<Integer> second = new HashSet<>(standin.awaitWorkers(4, first, READY));

            WorkermanApp reloaded = appOf(standin);
            assertThat(reloaded.masterPid()).isEqualTo(standin.masterPid());
            assertThat(reloaded.workerPids()).isEqualTo(second).doesNotContainAnyElementsOf(first);
            assertThat(echo(port, "after reload")).isEqualTo("after reload");

            // A worker that dies is re-forked with a new pid.
            int victim = second.iterator().next();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            Set<Integer> third = new HashSet<>(standin.awaitWorkers(4, Set.of(victim), READY));

            assertThat(appOf(standin).workerPids()).isEqualTo(third).doesNotContain(victim);
            assertThat(third).containsAll(second.stream().filter(p -> p != victim).toList());
        }
    }

    private static WorkermanApp appOf(WorkermanStandin standin) throws IOException {
        return find(standin).orElseThrow(() -> new AssertionError("no app with start file " + standin.startFile()));
    }

    private static Optional<WorkermanApp> find(WorkermanStandin standin) {
        try {
            return new ProcScanner().scan().stream()
                    .filter(a -> a.startFile().equals(standin.startFile()))
                    .reduce((a, b) -> {
                        throw new AssertionError("two apps for one start file: " + a + " and " + b);
                    });
        } catch (IOException e) {
            throw new AssertionError("scan /proc: " + e.getMessage(), e);
        }
    }

    private static String echo(int port, String line) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    private static String httpStatusLine(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }
}
