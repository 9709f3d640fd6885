package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.FakeProc;
import dev.wmscope.agent.discovery.ProcScanner;
import dev.wmscope.otel.WorkerIdentity;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A discovery pass end to end over a fake /proc: the kernel maps (a recording fake), the
 * process directory and the internal-traffic ports follow the apps, and the log tells an
 * operator what happened in Workerman terms.
 */
class DiscoveryServiceTest {
  private static final String CHAT = "/srv/chat/start.php";
  private static final String GATEWAY_TITLE = "WorkerMan: worker process  ChatGateway websocket://0.0.0.0:8282";
  private static final InetAddress LO = InetAddress.getLoopbackAddress();

  @TempDir
  Path tmp;

  private Path root;
  private FakeProc proc;
  private final Set<Integer> mapPorts = new java.util.TreeSet<>();
  private final Set<Integer> mapPids = new java.util.TreeSet<>();
  private final ProcessDirectory directory = new ProcessDirectory();
  private final InternalTraffic internal = new InternalTraffic(new LocalAddresses());
  private DiscoveryService discovery;

  /** Held strongly: java.util.logging keeps loggers only weakly. */
  private final Logger jul = Logger.getLogger(DiscoveryService.class.getName());
  private final List<String> log = new ArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      log.add(new SimpleFormatter().formatMessage(r));
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("proc"));
    proc = new FakeProc(root);
    proc.process(1, 0, "init", 1, "/sbin/init\0").process(700, 1, "bash", 10, "-bash\0");
    WatchReconciler.WatchMaps maps = new WatchReconciler.WatchMaps() {
      @Override
      public void watchPort(int port) {
        assertThat(mapPorts.add(port)).as("port %d added twice", port).isTrue();
      }

      @Override
      public void unwatchPort(int port) {
        assertThat(mapPorts.remove(port)).as("port %d removed but absent", port).isTrue();
      }

      @Override
      public void watchPid(int pid) {
        assertThat(mapPids.add(pid)).as("pid %d added twice", pid).isTrue();
      }

      @Override
      public void unwatchPid(int pid) {
        assertThat(mapPids.remove(pid)).as("pid %d removed but absent", pid).isTrue();
      }
    };
    TargetScanner scanner = new TargetScanner(new Selection(Set.of(), Set.of(), Optional.empty(), Optional.empty()),
        new ProcScanner(root), new ListeningPorts(root));
    discovery = new DiscoveryService(scanner, new WatchReconciler(maps), directory, internal);
    jul.addHandler(capture);
  }

  @AfterEach
  void tearDown() {
    jul.removeHandler(capture);
  }

  private List<String> drainLog() {
    List<String> out = List.copyOf(log);
    log.clear();
    return out;
  }

  private void gateway(int pid, long startTicks) {
    proc.titled(pid, 13144, startTicks, GATEWAY_TITLE);
  }

  @Test
  void aMasterTitledCommandOrAMasterBeforeItsFirstForkIsNotAnApp() {
    discovery.pass();
    // `php start.php stop` (or status, restart) titles its own process as the master for a moment
    proc.titled(20001, 700, 100, "WorkerMan: master process  start_file=" + CHAT);
    discovery.pass();
    proc.remove(20001);
    discovery.pass();
    assertThat(drainLog()).as("neither found nor stopped").isEmpty();
  }

  @Test
  void followsAnAppFromStartThroughReloadAndCrashToStop() {
    discovery.pass();
    assertThat(discovery.firstPassDone()).isTrue();
    assertThat(drainLog()).isEmpty();
    assertThat(mapPorts).isEmpty();

    // an app appears (a master pid above 999 must not be printed as "13,144")
    proc.titled(13144, 700, 100, "WorkerMan: master process  start_file=" + CHAT);
    gateway(13145, 101);
    gateway(13146, 101);
    proc.listens(8282, 13144, 13145, 13146);
    discovery.pass();
    assertThat(drainLog()).containsExactly("found Workerman app " + CHAT + " (master 13144): 2 workers, ports [8282]");
    assertThat(mapPorts).containsExactly(8282);
    assertThat(mapPids).containsExactly(13145, 13146);
    assertThat(directory.lookup(13145))
        .isEqualTo(new WorkerIdentity("ChatGateway", "websocket://0.0.0.0:8282", 13144, CHAT, "gateway"));
    assertThat(internal.opened(1, false, LO, 40001, LO, 8282)).as("8282 is a watched local port").isTrue();

    // nothing changed: nothing logged, nothing touched (the fake maps reject duplicates)
    discovery.pass();
    assertThat(drainLog()).isEmpty();

    // reload: every worker replaced
    proc.remove(13145).remove(13146);
    gateway(13201, 200);
    gateway(13202, 200);
    proc.listens(8282, 13201, 13202);
    discovery.pass();
    assertThat(drainLog()).containsExactly("Workerman app " + CHAT + " (master 13144): workers now [13201, 13202] (reloaded)");
    assertThat(mapPids).containsExactly(13201, 13202);
    assertThat(directory.live()).containsOnlyKeys(13144L, 13201L, 13202L);
    assertThat(directory.lookup(13145)).as("a reloaded worker is still named for late records").isNotNull();

    // a worker crashes, then the master re-forks it
    proc.remove(13202);
    discovery.pass();
    assertThat(drainLog()).containsExactly("Workerman app " + CHAT + " (master 13144): workers now [13201] (1 exited)");
    gateway(13203, 300);
    discovery.pass();
    assertThat(drainLog()).containsExactly(
        "Workerman app " + CHAT + " (master 13144): workers now [13201, 13203] (1 re-forked or added)");
    assertThat(mapPids).containsExactly(13201, 13203);

    // stop
    proc.remove(13201).remove(13203).remove(13144);
    discovery.pass();
    assertThat(drainLog()).containsExactly("Workerman app " + CHAT + " (master 13144) stopped");
    assertThat(mapPorts).isEmpty();
    assertThat(mapPids).isEmpty();
    assertThat(directory.live()).isEmpty();
    assertThat(internal.opened(2, false, LO, 40002, LO, 8282)).as("8282 is no longer watched").isFalse();
  }

  @Test
  void aMasterSeenBeforeItForksIsFoundWithItsFirstWorkersNotReloaded() {
    proc.titled(13144, 700, 100, "WorkerMan: master process  start_file=" + CHAT);
    discovery.pass();
    assertThat(drainLog()).as("not an app before its first fork").isEmpty();

    gateway(13145, 101);
    discovery.pass();

    assertThat(drainLog()).containsExactly("found Workerman app " + CHAT + " (master 13144): 1 workers, ports [8282]");
  }

  @Test
  void workersExitingDuringAStopAreNotAReload() {
    proc.titled(13144, 700, 100, "WorkerMan: master process  start_file=" + CHAT);
    gateway(13145, 101);
    gateway(13146, 101);
    discovery.pass();
    drainLog();

    proc.remove(13145).remove(13146); // the master waits for its workers before it exits
    discovery.pass();

    assertThat(drainLog()).containsExactly("Workerman app " + CHAT + " (master 13144): workers now [] (2 exited)");
  }

  @Test
  void aFailedScanKeepsThePreviousState() throws IOException {
    proc.titled(13144, 700, 100, "WorkerMan: master process  start_file=" + CHAT);
    gateway(13145, 101);
    proc.listens(8282, 13144, 13145);
    discovery.pass();
    drainLog();

    try (Stream<Path> files = Files.walk(root)) { // /proc unreadable for one pass
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    discovery.pass();

    assertThat(drainLog()).singleElement().satisfies(l -> assertThat(l).startsWith("scan /proc: list " + root));
    assertThat(mapPorts).containsExactly(8282);
    assertThat(mapPids).containsExactly(13145);
    assertThat(directory.live()).containsOnlyKeys(13144L, 13145L);
  }

  @Test
  void aFirstPassThatFailsIsNotDone() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }

    discovery.pass();

    assertThat(discovery.firstPassDone()).isFalse();
  }

  @Test
  void describesWorkerChanges() {
    assertThat(DiscoveryService.change(Set.of(), Set.of(1, 2))).isEqualTo("forked");
    assertThat(DiscoveryService.change(Set.of(1, 2), Set.of(3, 4))).isEqualTo("reloaded");
    assertThat(DiscoveryService.change(Set.of(1, 2), Set.of(3))).isEqualTo("reloaded");
    assertThat(DiscoveryService.change(Set.of(1, 2), Set.of(1, 3))).isEqualTo("1 re-forked or added, 1 exited");
    assertThat(DiscoveryService.change(Set.of(1, 2), Set.of(1, 2, 3))).isEqualTo("1 re-forked or added");
    assertThat(DiscoveryService.change(Set.of(1, 2), Set.of(2))).isEqualTo("1 exited");
    assertThat(DiscoveryService.change(Set.of(1, 2), Set.of())).isEqualTo("2 exited");
  }
}
