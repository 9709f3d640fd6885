package dev.wmscope.agent.health;

import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.loader.HealthEvent;
import dev.wmscope.loader.KernelFeature;
import dev.wmscope.loader.LoopState;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.loader.WorkerHealthProbe;
import dev.wmscope.otel.WorkerHealthTelemetry;
import dev.wmscope.otel.WorkerIdentity;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Each watched worker's health, one {@link #tick} at a time: event-loop utilization and blocked
 * workers (from the kernel's {@link LoopState}), descriptor headroom and event-loop kind (from
 * /proc), and exits with their causes (from the kernel's signal and exit records).
 *
 * <p>A worker is blocked when it left its event wait more than the threshold ago and is either
 * asleep in another syscall (a database read through PHP's poll, a usleep) or on a CPU doing
 * almost no system time (PHP code). A loop whose wait always finds events ready never sleeps in
 * it either; it spends much of its time in the kernel reading and writing sockets, which tells it
 * apart: it is saturated (utilization near 1), not blocked.
 *
 * <p>Threading: {@link #tick} from one thread at a time (the agent runs it in order on one
 * Vert.x context); the read methods from any thread (they return immutable snapshots).
 */
public final class WorkerHealth {
  private static final System.Logger LOG = System.getLogger(WorkerHealth.class.getName());
  /** Below this share of wall time in the kernel, a busy worker on a CPU is running PHP code. */
  static final double USER_SPACE_ONLY = 0.05;
  static final double FD_WARN_SHARE = 0.8;
  /** Workerman's Select loop cannot watch descriptors >= FD_SETSIZE (1024). */
  static final long SELECT_FD_WARN = 900;
  static final int EVENTS_KEPT = 200;
  /** Ticks between two looks for the event loop's kind (see observe). */
  static final int KIND_RECHECK = 60;
  private static final long CLK_TCK = 100;

  /**
   * One worker now, for the API and status.
   *
   * @param blockedFor seconds since it left its wait when blocked, else 0
   * @param doing      what a blocked worker does ("in poll on fd 16 -> 127.0.0.1:3306 (tracked)",
   *                   "running on a CPU in user space (PHP code)"), else empty
   */
  public record Loop(long pid, WorkerIdentity worker, String kind, double utilization, String state, boolean blocked,
      double blockedFor, String doing, long openFds, long fdLimit, long busyStretches) {}

  /**
   * A lifecycle event for /api/events: a worker's start or exit (with cause), or a master's
   * reload or restart (pid: the master signalled).
   *
   * @param fields what else the API shows (exit: how its connections ended; reload, restart: the report)
   */
  public record Event(Instant at, String type, long pid, WorkerIdentity worker, String cause, String detail,
      Map<String, Object> fields) {}

  /**
   * An exit is reported once the closes the kernel recorded this long after it have reached the
   * ledger (the exit closes the worker's sockets; Workerman's stop closes them just before).
   */
  static final long EXIT_SETTLE_NANOS = 300_000_000L;
  /** ... or this long after it if they never do (no connection probe delivering, a stuck poll). */
  static final long EXIT_SETTLE_MAX_NANOS = 10_000_000_000L;
  private static final int SIGUSR1 = 10;
  private static final int SIGUSR2 = 12;

  /** @param epochNanos where its connections start to count: its stop signal, else its exit */
  private record PendingExit(long pid, WorkerIdentity worker, long master, ExitCause cause, long mono,
      long epochNanos) {}

  private final WorkerHealthProbe probe;
  private final ConnectionLedger ledger;
  private final ReloadTracker reloads = new ReloadTracker();
  private final List<PendingExit> pendingExits = new ArrayList<>();
  private final List<ReloadTracker.Report> finishedReloads = new ArrayList<>();
  /**
   * Per reload or restart in progress (by the master signalled), the drops of each listener of
   * its start file when first and last seen (socket inode -> {first, last}). By socket, because
   * a restart closes the old listeners and opens new ones (so does a reload with reusePort): a
   * closed socket's counter is gone, its drops up to the last live read still count.
   */
  private final Map<Long, ListenerDrops> dropsDuring = new HashMap<>();
  private record ListenerDrops(String startFile, Map<Long, long[]> byInode) {}

  /** When watched masters forked each child (kernel clock), until the child is seen. */
  private final Map<Long, Long> forkedAt = new LinkedHashMap<>();
  /** Which watched master forked each child, until the child is seen or exits. */
  private final Map<Long, Long> forkedBy = new LinkedHashMap<>();
  private final Supplier<Map<Long, WorkerIdentity>> directory;
  private final Supplier<LiveState.View> live;
  private final long blockedNanos;
  private final ProcFacts proc;
  private volatile WorkerHealthTelemetry telemetry;
  private final Map<Long, Tracked> tracked = new HashMap<>();
  private final Map<Long, Deque<ExitCause.Sent>> signals = new HashMap<>();
  /**
   * Per watched pid, when it was first asked to stop or reload (SIGINT, SIGTERM, SIGQUIT, SIGHUP,
   * SIGUSR1/2, SIGKILL): Workerman's stop and reload close a worker's connections in PHP before it
   * exits, so its exit counts the connections that closed from this moment, not from the exit.
   */
  private final Map<Long, Long> stopAskedAt = new LinkedHashMap<>();
  /**
   * Per master, when it was last asked to stop all its workers (SIGINT, SIGTERM, SIGQUIT, SIGHUP):
   * it signals them one after another, and one that stops first closes its links to the others
   * before they get their own signal; those closes belong to the stop too.
   */
  private final Map<Long, Long> masterStopAt = new LinkedHashMap<>();
  /** A SIGKILL this soon after a stop request ends that stop (Workerman's stop timeout, 2 s by default). */
  private static final long STOP_CHAIN_NANOS = 60_000_000_000L;
  private final List<HealthEvent> pending = new ArrayList<>();
  private final Deque<Event> events = new ArrayDeque<>();
  private volatile List<Loop> loops = List.of();
  private volatile List<WorkerHealthTelemetry.WorkerLoop> gauges = List.of();
  private volatile List<Event> eventsView = List.of();
  /**
   * What this tick has to say about its workers (blocked, back, descriptors), said once the tick
   * has published its rows: whoever reads the API on seeing the line finds the row that says so.
   */
  private final List<Runnable> sayAfterPublish = new ArrayList<>();
  private boolean firstTick = true;
  private boolean closed;

  /** Per watched worker: the previous reading and what was said about it. */
  private static final class Tracked {
    final WorkerIdentity worker;
    final boolean master;
    final long startEpochNanos = System.currentTimeMillis() * 1_000_000L;
    long prevMono;
    long prevWait = -1;
    long[] prevTicks;
    String kind = "unknown";
    long ticks;
    int kindChecks;
    long fdLimit;
    boolean blocked;
    long blockedSince;
    boolean fdWarned;

    Tracked(WorkerIdentity worker) {
      this.worker = worker;
      this.master = worker != null && worker.role().equals("master");
    }
  }

  public WorkerHealth(WorkerHealthProbe probe, Supplier<Map<Long, WorkerIdentity>> directory,
      Supplier<LiveState.View> live, ConnectionLedger ledger, java.time.Duration blockedThreshold) {
    this(probe, directory, live, ledger, blockedThreshold, Path.of("/proc"));
  }

  WorkerHealth(WorkerHealthProbe probe, Supplier<Map<Long, WorkerIdentity>> directory,
      Supplier<LiveState.View> live, ConnectionLedger ledger, java.time.Duration blockedThreshold, Path proc) {
    this.probe = probe;
    this.ledger = ledger;
    this.directory = directory;
    this.live = live;
    this.blockedNanos = blockedThreshold.toNanos();
    this.proc = new ProcFacts(proc);
  }

  /** Where exits are counted and the gauges read (set once the SDK is at hand). */
  public void telemetry(WorkerHealthTelemetry t) {
    this.telemetry = t;
  }

  /** The kernel's events go here, on the tick's thread (the probe's sink). */
  public void onEvent(HealthEvent e) {
    pending.add(e);
  }

  public Map<KernelFeature, dev.wmscope.loader.FeatureStatus> features() {
    return probe.features();
  }

  /** Reads the kernel's events and state and /proc once; logs what changed. */
  public synchronized void tick() {
    if (closed) {
      return;
    }
    probe.consume();
    long now = MonotonicClock.monotonicNow(); // the kernel's bpf_ktime_get_ns clock
    Map<Long, WorkerIdentity> known = directory.get();
    for (HealthEvent e : pending) {
      handle(e, known);
    }
    pending.clear();
    Set<Long> gone = new HashSet<>(tracked.keySet());
    gone.removeAll(known.keySet());
    for (long pid : gone) {
      Tracked t = tracked.remove(pid);
      forget(pid);
      if (t.master) {
        reloads.masterExited(pid, now); // without a kernel exit record (worker_exits off)
      }
      if (!probe.has(KernelFeature.WORKER_EXITS) && !t.master) {
        long nowEpoch = System.currentTimeMillis() * 1_000_000L;
        pendingExits.add(new PendingExit(pid, t.worker, t.worker == null ? 0 : t.worker.masterPid(),
            new ExitCause("unknown", "gone from /proc (no kernel exit record: worker_exits is off)"), now,
            nowEpoch - 2 * EXIT_SETTLE_NANOS));
      }
    }
    List<Loop> outLoops = new ArrayList<>();
    List<WorkerHealthTelemetry.WorkerLoop> outGauges = new ArrayList<>();
    for (var entry : known.entrySet()) {
      long pid = entry.getKey();
      Tracked t = tracked.get(pid);
      if (t == null) {
        WorkerIdentity w = entry.getValue();
        boolean master = w != null && w.role().equals("master");
        int flags = master ? LoopState.FLAG_SIGNALS_ONLY
            : (w != null && w.listen().equals("none") ? LoopState.FLAG_SLEEP_IS_WAIT : 0);
        if (!probe.watch(pid, flags)) {
          continue;
        }
        t = new Tracked(w);
        tracked.put(pid, t);
        if (!firstTick && !master) {
          record(new Event(Instant.now(), "start", pid, w, "", "worker started", Map.of()));
          if (w != null) {
            // its fork by a watched master as the kernel saw it, else /proc's start time (to its
            // 10 ms step), else now
            Long forked = forkedAt.remove(pid);
            long procStart = forked != null ? -1 : proc.startNanos(pid);
            boolean fromProc = procStart > 0 && procStart <= now;
            long start = forked != null ? forked : fromProc ? procStart : now;
            reloads.started(w.masterPid(), w.startFile(), pid, w.workerName(), start,
                fromProc ? ProcFacts.START_STEP_NANOS : 0);
          }
        }
      }
      if (t.master) {
        continue;
      }
      Loop l = observe(pid, t, now, outGauges);
      if (l != null) {
        outLoops.add(l);
      }
    }
    firstTick = false;
    for (var it = pendingExits.iterator(); it.hasNext(); ) {
      PendingExit x = it.next();
      boolean settled = now - x.mono() >= EXIT_SETTLE_NANOS && ledger.closesIn(x.mono() + EXIT_SETTLE_NANOS);
      if (settled || now - x.mono() >= EXIT_SETTLE_MAX_NANOS) {
        it.remove();
        reportExit(x);
      }
    }
    for (var e : exitWindow.entrySet()) {
      if (now - e.getValue()[0] >= EXIT_WINDOW_NANOS) {
        flushSuppressed(e.getKey(), e.getValue());
      }
    }
    exitWindow.values().removeIf(w -> now - w[0] >= 6 * EXIT_WINDOW_NANOS && w[2] == 0);
    // a reload is reported after the exits of its old workers, which wait for their closes
    finishedReloads.addAll(reloads.finished(now));
    // a stop that was no restart leaves its listeners' drops behind
    dropsDuring.keySet().removeIf(m -> !reloads.reloading(m)
        && finishedReloads.stream().noneMatch(r -> r.master() == m));
    dropsDuring.values().forEach(d -> readDrops(d, false));
    for (var it = finishedReloads.iterator(); it.hasNext(); ) {
      ReloadTracker.Report r = it.next();
      if (pendingExits.stream().noneMatch(x -> r.oldPids().contains(x.pid()))) {
        it.remove();
        reportReload(r);
      }
    }
    loops = List.copyOf(outLoops);
    gauges = List.copyOf(outGauges);
    sayAfterPublish.forEach(Runnable::run);
    sayAfterPublish.clear();
  }

  private Loop observe(long pid, Tracked t, long now, List<WorkerHealthTelemetry.WorkerLoop> outGauges) {
    // the loop kind is looked for at the first ticks (the loop may not exist yet right after the
    // fork) and then every KIND_RECHECK ticks: it costs a readlink per descriptor
    boolean look = t.kindChecks < 5 || t.ticks % KIND_RECHECK == 0;
    t.ticks++;
    long[] fds = proc.descriptors(pid, look);
    long limit = t.ticks % 10 == 1 || t.fdLimit == 0 ? proc.fdLimit(pid) : t.fdLimit;
    t.fdLimit = limit;
    if (look) {
      t.kindChecks++;
      t.kind = proc.loopKind(pid, fds[1] == 1);
    }
    warnDescriptors(pid, t, fds[0], limit);
    long[] ticks = proc.cpuTicks(pid);
    var read = probe.has(KernelFeature.LOOP_HEALTH) ? probe.read(pid) : java.util.Optional.<LoopState>empty();
    double utilization = Double.NaN;
    String state = "unknown";
    String doing = "";
    double blockedFor = 0;
    List<Long> buckets = List.of();
    double busySum = 0;
    long stretches = 0;
    if (read.isPresent()) {
      LoopState s = read.get();
      long wait = s.waitNanosAt(now);
      if (t.prevWait >= 0 && now > t.prevMono && s.state() != LoopState.State.UNKNOWN) {
        utilization = Math.max(0, Math.min(1, 1 - (double) (wait - t.prevWait) / (now - t.prevMono)));
      }
      double systemShare = 1;
      if (t.prevTicks != null && ticks != null && now > t.prevMono) {
        systemShare = (ticks[1] - t.prevTicks[1]) / (double) CLK_TCK / ((now - t.prevMono) / 1e9);
      }
      state = s.state().name().toLowerCase(java.util.Locale.ROOT);
      boolean away = s.state() == LoopState.State.BUSY && now - s.sinceNanos() > blockedNanos;
      boolean blocked = away && (s.asleepInSyscall() || systemShare < USER_SPACE_ONLY);
      if (blocked) {
        doing = s.asleepInSyscall() ? inSyscall(pid, s) : "running on a CPU in user space (PHP code)";
        blockedFor = (now - s.sinceNanos()) / 1e9;
        if (!t.blocked || t.blockedSince != s.sinceNanos()) {
          String line = "worker " + who(pid, t.worker) + " blocked for "
              + String.format(java.util.Locale.ROOT, "%.1f", blockedFor) + " s: " + doing;
          var attributes = io.opentelemetry.api.common.Attributes.of(dev.wmscope.otel.TelemetryNames.BLOCKED_DOING,
              doing, dev.wmscope.otel.TelemetryNames.BLOCKED_DURATION, blockedFor);
          sayAfterPublish.add(() -> {
            LOG.log(System.Logger.Level.WARNING, line);
            emit(dev.wmscope.otel.TelemetryNames.EVENT_WORKER_BLOCKED, true, line, pid, t.worker, attributes);
          });
        }
        t.blocked = true;
        t.blockedSince = s.sinceNanos();
      } else if (t.blocked) {
        long end = s.state() == LoopState.State.WAITING ? s.sinceNanos() : now;
        double took = Math.max(0, end - t.blockedSince) / 1e9;
        String line = "worker " + who(pid, t.worker) + " back in its event loop after "
            + String.format(java.util.Locale.ROOT, "%.1f", took) + " s";
        sayAfterPublish.add(() -> {
          LOG.log(System.Logger.Level.INFO, line);
          emit(dev.wmscope.otel.TelemetryNames.EVENT_WORKER_UNBLOCKED, false, line, pid, t.worker,
              io.opentelemetry.api.common.Attributes.of(dev.wmscope.otel.TelemetryNames.BLOCKED_DURATION, took));
        });
        t.blocked = false;
      }
      // not seen switching since it was watched (asleep in its wait since before): no reading yet
      t.prevWait = s.state() == LoopState.State.UNKNOWN ? -1 : wait;
      List<Long> b = new ArrayList<>(LoopState.BUCKETS);
      for (long c : s.buckets()) {
        b.add(c);
      }
      buckets = b;
      busySum = s.busyNanos() / 1e9;
      stretches = s.stretches();
    }
    t.prevMono = now;
    t.prevTicks = ticks;
    outGauges.add(new WorkerHealthTelemetry.WorkerLoop(pid, t.worker, t.kind, utilization, t.blocked,
        t.startEpochNanos, buckets, busySum, fds[0], limit));
    return new Loop(pid, t.worker, t.kind, utilization, state, t.blocked, blockedFor, doing, fds[0], limit, stretches);
  }

  /** "in poll on fd 16 -> 127.0.0.1:3306 (tracked)", "in clock_nanosleep". */
  private String inSyscall(long pid, LoopState s) {
    String call = Syscalls.name(s.sleepSyscall());
    if (!Syscalls.onDescriptor(s.sleepSyscall()) || s.sleepArg0() < 0) {
      return "in " + call;
    }
    long fd = s.sleepArg0();
    String target = proc.descriptorTarget(pid, fd).orElse("");
    if (target.startsWith("socket:[")) {
      long inode = Long.parseLong(target.substring(8, target.length() - 1));
      var peer = proc.tcpPeer(pid, inode);
      if (peer.isPresent()) {
        return "in " + call + " on fd " + fd + " -> " + peer.get() + (trackedPeer(pid, peer.get()) ? " (tracked)" : "");
      }
      return "in " + call + " on fd " + fd + " (" + target + ")";
    }
    return "in " + call + " on fd " + fd + (target.isEmpty() ? "" : " (" + target + ")");
  }

  private boolean trackedPeer(long pid, String peer) {
    for (LiveState.OpenConn c : live.get().connections()) {
      var e = c.event();
      String p = (e.ipv6() ? "[" + e.peerAddress() + "]" : e.peerAddress()) + ":" + e.peerPort();
      if (e.pid() == pid && p.equals(peer)) {
        return true;
      }
    }
    return false;
  }

  private void warnDescriptors(long pid, Tracked t, long open, long limit) {
    if (open < 0) {
      return;
    }
    boolean near = (limit > 0 && open > FD_WARN_SHARE * limit) || (t.kind.equals("select") && open >= SELECT_FD_WARN);
    if (near && !t.fdWarned) {
      String who = who(pid, t.worker);
      String why = t.kind.equals("select") && open >= SELECT_FD_WARN
          ? " in a Select event loop, which cannot watch descriptors past 1024 (install ext-event)"
          : " of its limit of " + limit + " (raise LimitNOFILE / ulimit -n)";
      sayAfterPublish.add(() -> LOG.log(System.Logger.Level.WARNING, "worker {0} holds {1} descriptors{2}", who,
          open, why));
    } else if (!near && t.fdWarned && (limit <= 0 || open < 0.75 * limit)) {
      String who = who(pid, t.worker);
      sayAfterPublish.add(() -> LOG.log(System.Logger.Level.INFO,
          "worker {0} holds {1} descriptors again, below the warning level", who, open));
    }
    t.fdWarned = near || (t.fdWarned && limit > 0 && open >= 0.75 * limit);
  }

  private void handle(HealthEvent e, Map<Long, WorkerIdentity> known) {
    switch (e.type()) {
      case SIGNAL -> {
        Tracked master = tracked.get(e.pid());
        if (master != null && master.master && !reloads.reloading(e.pid())
            && (e.signal() == SIGUSR1 || e.signal() == SIGUSR2 || ExitCause.stopsAll(e.signal()))) {
          begin(e, master.worker, known);
        }
        Deque<ExitCause.Sent> q = signals.computeIfAbsent(e.pid(), p -> new ArrayDeque<>());
        q.addLast(new ExitCause.Sent(e.signal(), e.sender(), sender(e.sender(), e.senderComm())));
        if (master != null && master.master) {
          if (ExitCause.stopsAll(e.signal())) {
            masterStopAt.put(e.pid(), e.monoNanos());
            bound(masterStopAt, 1024);
          }
        } else if (ExitCause.asksToStop(e.signal())) {
          // the latest request counts (a Register that ignored every reload's SIGUSR1 is stopped
          // by the last signal, not the first), but a SIGKILL after a stop timeout keeps the stop
          Long asked = stopAskedAt.get(e.pid());
          if (e.signal() != ExitCause.SIGKILL || asked == null || e.monoNanos() - asked > STOP_CHAIN_NANOS) {
            stopAskedAt.put(e.pid(), e.monoNanos());
          }
          bound(stopAskedAt, 4096);
        }
        while (q.size() > 8) {
          q.removeFirst();
        }
      }
      case FORK -> {
        forkedAt.put(e.pid(), e.monoNanos());
        forkedBy.put(e.pid(), e.sender());
        bound(forkedAt, 4096);
        bound(forkedBy, 4096);
      }
      case OOM -> LOG.log(System.Logger.Level.WARNING, "the OOM killer chose {0}",
          who(e.pid(), known.get(e.pid())));
      case EXIT -> {
        Tracked t = tracked.remove(e.pid());
        WorkerIdentity w = t != null ? t.worker : known.get(e.pid());
        if (w != null && w.role().equals("master")) {
          masterStopAt.remove(e.pid());
          reloads.masterExited(e.pid(), e.monoNanos());
          probe.unwatch(e.pid());
          return;
        }
        // a worker that died before discovery saw it (the kernel watched it from its fork)
        long master = w != null ? w.masterPid() : forkedBy.getOrDefault(e.pid(), 0L);
        forkedBy.remove(e.pid());
        if (w == null && !e.killedBySignal() && e.exitCode() == 0 && !hasWorkers(master, known)) {
          // not a worker: `php start.php restart -d` titles its own process as the master, and
          // daemonizing, forks a child that exits 0 at once (seen with real Workerman 5.2.2)
          forget(e.pid());
          return;
        }
        List<ExitCause.Sent> sent = List.copyOf(signals.getOrDefault(e.pid(), new ArrayDeque<>()));
        ExitCause c = ExitCause.of(e, sent, master, sender(e.sender(), e.senderComm()));
        // its connections are those that closed from its stop signal on (closed in PHP before the
        // exit) or, without one, from the exit (the kernel closes what is left after it)
        long from = Math.min(e.monoNanos(), stopAskedAt.getOrDefault(e.pid(), e.monoNanos()));
        Long masterStop = masterStopAt.get(master);
        if (masterStop != null && masterStop <= from && from - masterStop <= STOP_CHAIN_NANOS) {
          from = masterStop;
        }
        forget(e.pid());
        if (w != null) {
          reloads.exited(master, e.pid(), c.cause(), e.monoNanos());
        }
        long ago = MonotonicClock.monotonicNow() - from;
        pendingExits.add(new PendingExit(e.pid(), w, master, c, e.monoNanos(),
            System.currentTimeMillis() * 1_000_000L - ago));
      }
    }
  }

  /**
   * A master's reload signal (SIGUSR1, SIGUSR2: graceful) begins a reload; its stop signal
   * (SIGQUIT: graceful) begins what is a restart if a new master of its start file follows.
   */
  private void begin(HealthEvent e, WorkerIdentity master, Map<Long, WorkerIdentity> known) {
    Map<Long, WorkerIdentity> workers = new HashMap<>();
    Set<Long> otherMasters = new HashSet<>();
    known.forEach((pid, w) -> {
      if (w != null && w.masterPid() == e.pid() && !w.role().equals("master")) {
        workers.put(pid, w);
      } else if (w != null && w.role().equals("master") && pid != e.pid()
          && w.startFile().equals(master.startFile())) {
        otherMasters.add(pid);
      }
    });
    // the signal's own time (the tick that reads it comes up to a poll interval later)
    Instant at = Instant.now().minusNanos(Math.max(0, MonotonicClock.monotonicNow() - e.monoNanos()));
    String askedBy = ExitCause.name(e.signal()) + " from " + sender(e.sender(), e.senderComm());
    if (e.signal() == SIGUSR1 || e.signal() == SIGUSR2) {
      reloads.begin(e.pid(), master.startFile(), askedBy, e.signal() == SIGUSR2, e.monoNanos(), at, workers);
    } else {
      reloads.beginRestart(e.pid(), master.startFile(), askedBy, e.signal() == ExitCause.SIGQUIT, e.monoNanos(), at,
          workers, otherMasters);
    }
    ListenerDrops d = new ListenerDrops(master.startFile(), new HashMap<>());
    readDrops(d, true);
    dropsDuring.put(e.pid(), d);
  }

  /**
   * The drops of the listeners of a reload's or restart's start file now: at its signal
   * ({@code first}) where each one starts, later a new socket (a restart's) counts from 0.
   */
  private void readDrops(ListenerDrops d, boolean first) {
    for (LiveState.Listener l : live.get().listeners()) {
      if (l.worker() != null && l.worker().startFile().equals(d.startFile())) {
        long drops = l.state().drops();
        long[] seen = d.byInode().computeIfAbsent(l.state().sockInode(), i -> new long[] {first ? drops : 0, 0});
        seen[1] = Math.max(seen[1], drops);
      }
    }
  }

  /** At most this many exit lines per master and window; the rest are summed up in one line. */
  static final int EXIT_LINES_PER_WINDOW = 10;
  static final long EXIT_WINDOW_NANOS = 10_000_000_000L;
  private final Map<Long, long[]> exitWindow = new HashMap<>(); // master -> {window start, lines, suppressed}

  /** Whether this exit gets its own line (false in a crash loop beyond the window's budget). */
  private boolean quiet(long master, long mono) {
    long[] w = exitWindow.computeIfAbsent(master, m -> new long[] {mono, 0, 0});
    if (mono - w[0] >= EXIT_WINDOW_NANOS) {
      flushSuppressed(master, w);
      w[0] = mono;
      w[1] = 0;
    }
    if (w[1] < EXIT_LINES_PER_WINDOW) {
      w[1]++;
      return true;
    }
    w[2]++;
    return false;
  }

  private void flushSuppressed(long master, long[] w) {
    if (w[2] > 0) {
      LOG.log(System.Logger.Level.WARNING, "{0} more workers of master {1} exited within {2} s (a crash loop?"
          + " see workerman.log); counted in workerman.worker.exits and /api/events", Long.toString(w[2]),
          Long.toString(master), Long.toString(EXIT_WINDOW_NANOS / 1_000_000_000L));
      w[2] = 0;
    }
  }

  /** Stops watching a process that is gone and drops what was kept about its signals. */
  private void forget(long pid) {
    probe.unwatch(pid);
    signals.remove(pid);
    stopAskedAt.remove(pid);
  }

  /**
   * Keeps a per-pid map at most {@code max} entries, the oldest going first (the maps are
   * insertion-ordered): some pids' exits are never seen.
   */
  private static void bound(Map<Long, Long> m, int max) {
    while (m.size() > max) {
      m.remove(m.keySet().iterator().next());
    }
  }

  /** Whether discovery knows a worker of this master: a real app's master, not a command's process. */
  private static boolean hasWorkers(long master, Map<Long, WorkerIdentity> known) {
    return master > 0 && known.values().stream()
        .anyMatch(w -> w != null && w.masterPid() == master && !w.role().equals("master"));
  }

  private void reportExit(PendingExit x) {
    ConnectionLedger.Ends ends = ledger.since(x.pid(), x.epochNanos());
    long open = openConnections(Set.of(x.pid()), x.epochNanos());
    long held = ends.total() + open;
    ExitCause c = x.cause();
    boolean failure = !c.cause().equals("reload") && !c.cause().equals("stop") && !c.cause().equals("exit");
    String name = x.worker() != null ? who(x.pid(), x.worker()) : "[" + x.pid() + "] (a worker of master " + x.master()
        + ", gone before discovery saw it)";
    String line = "worker " + name + " " + c.detail() + "; " + (held == 0 ? "it held no connection"
        : "it held " + held + " connection" + (held == 1 ? "" : "s") + ": " + describe(ends, open));
    WorkerHealthTelemetry tel = telemetry;
    if (tel != null) {
      tel.exited(x.worker(), c.cause());
    }
    if (quiet(x.master(), x.mono())) {
      // a crash loop (a fatal error at worker start re-forked at once): counted, one summary line
      // per window instead of a line per exit
      LOG.log(failure ? System.Logger.Level.WARNING : System.Logger.Level.INFO, line);
      emit(dev.wmscope.otel.TelemetryNames.EVENT_WORKER_EXIT, failure, line, x.pid(), x.worker(),
          io.opentelemetry.api.common.Attributes.of(dev.wmscope.otel.TelemetryNames.WORKER_EXIT_CAUSE, c.cause()));
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("connections", held);
    f.put("closed", ends.closed());
    f.put("reset", ends.resetByUs());
    f.put("reset_by_peer", ends.resetByPeer());
    f.put("still_open", open);
    record(new Event(Instant.now(), "exit", x.pid(), x.worker(), c.cause(), c.detail(), f));
  }

  private static String describe(ConnectionLedger.Ends e, long open) {
    List<String> parts = new ArrayList<>();
    parts.add(e.closed() + " closed");
    parts.add(e.resetByUs() + " reset");
    if (e.resetByPeer() > 0) {
      parts.add(e.resetByPeer() + " reset by the peer");
    }
    if (e.other() > 0) {
      parts.add(e.other() + " timed out");
    }
    if (open > 0) {
      parts.add(open + " still open");
    }
    return String.join(", ", parts);
  }

  /** A reload's or a restart's report: one log line, log record and /api/events entry. */
  private void reportReload(ReloadTracker.Report r) {
    long since = r.startedAt().getEpochSecond() * 1_000_000_000L + r.startedAt().getNano();
    ConnectionLedger.Ends ends = ledger.since(r.oldPids(), since);
    long stillOpen = openConnections(r.kept(), since);
    ListenerDrops drops = dropsDuring.remove(r.master());
    long overflows = drops == null ? 0
        : drops.byInode().values().stream().mapToLong(d -> Math.max(0, d[1] - d[0])).sum();
    String expected = r.restart() ? "stop" : "reload"; // the cause not worth saying
    String type = r.restart() ? "restart" : "reload";
    List<String> pairs = r.replaced().stream().map(x -> x.name() + " " + x.oldPid() + " -> "
        + (x.newPid() == 0 ? "none" : x.newPid()) + (x.cause().equals(expected) ? "" : " (" + x.cause() + ")"))
        .toList();
    String gaps = r.gapNanos().entrySet().stream().map(g -> g.getKey() + " " + g.getValue() / 1_000_000 + " ms")
        .collect(java.util.stream.Collectors.joining(", "));
    String detail = String.format(java.util.Locale.ROOT,
        "%s%s of %d workers replaced in %.1f s (%s)%s; old workers' connections: %s; without a running worker: %s;"
            + " %d accept-queue overflows",
        r.complete() ? "" : "incomplete after 300 s: ", r.replaced().size(), r.oldPids().size(),
        r.durationNanos() / 1e9, String.join(", ", pairs),
        r.kept().isEmpty() ? "" : ", " + r.kept().size() + " kept " + r.kept(), describe(ends, stillOpen),
        gaps.isEmpty() ? "none" : gaps, overflows);
    String line = (r.graceful() ? "graceful " : "") + type + " of " + r.startFile() + " (master " + r.master()
        + (r.restart() ? " -> " + r.newMaster() : "") + ", " + r.askedBy() + "): " + detail;
    LOG.log(System.Logger.Level.INFO, line);
    var attributes = io.opentelemetry.api.common.Attributes.builder()
        .put(dev.wmscope.otel.TelemetryNames.WORKERMAN_START_FILE, r.startFile())
        .put(dev.wmscope.otel.TelemetryNames.RELOAD_REPLACED, (long) r.replaced().size())
        .put(dev.wmscope.otel.TelemetryNames.RELOAD_CONNECTIONS_CUT, ends.total())
        .put(dev.wmscope.otel.TelemetryNames.RELOAD_DURATION, r.durationNanos() / 1e9);
    if (r.restart()) {
      attributes.put(dev.wmscope.otel.TelemetryNames.RESTART_NEW_MASTER_PID, r.newMaster());
    }
    emit(r.restart() ? dev.wmscope.otel.TelemetryNames.EVENT_RESTART : dev.wmscope.otel.TelemetryNames.EVENT_RELOAD,
        !r.complete(), line, r.master(), null, attributes.build());
    Map<String, Object> f = new LinkedHashMap<>();
    if (r.restart()) {
      f.put("old_master", r.master());
      f.put("new_master", r.newMaster());
    }
    f.put("start_file", r.startFile());
    f.put("asked_by", r.askedBy());
    f.put("graceful", r.graceful());
    f.put("complete", r.complete());
    f.put("duration_s", Math.round(r.durationNanos() / 1e6) / 1000.0);
    List<Map<String, Object>> replaced = new ArrayList<>();
    for (var x : r.replaced()) {
      replaced.add(Map.of("name", x.name(), "old_pid", x.oldPid(), "new_pid", x.newPid(), "cause", x.cause()));
    }
    f.put("replaced", replaced);
    f.put("kept", List.copyOf(r.kept()));
    f.put("closed", ends.closed());
    f.put("reset", ends.resetByUs());
    f.put("reset_by_peer", ends.resetByPeer());
    f.put("still_open", stillOpen);
    Map<String, Object> g = new LinkedHashMap<>();
    r.gapNanos().forEach((name, ns) -> g.put(name, Math.round(ns / 1e6 * 10) / 10.0));
    f.put("no_worker_ms", g);
    f.put("accept_overflows", overflows);
    record(new Event(r.startedAt(), type, r.master(), null, r.graceful() ? "graceful_" + type : type, detail, f));
  }

  private void emit(String name, boolean warning, String line, long pid, WorkerIdentity w,
      io.opentelemetry.api.common.Attributes extra) {
    WorkerHealthTelemetry tel = telemetry;
    if (tel != null) {
      tel.event(name, warning, line, pid, w, extra);
    }
  }

  /**
   * Open connections now owned by these processes: those the live view lists, less those whose
   * close arrived since {@code sinceEpochNanos} (the view is a snapshot of the last poll).
   */
  private long openConnections(Set<Long> pids, long sinceEpochNanos) {
    Set<String> closed = ledger.closedKeys(pids, sinceEpochNanos);
    long n = 0;
    for (LiveState.OpenConn c : live.get().connections()) {
      if (pids.contains(c.event().pid()) && !closed.contains(ConnectionLedger.key(c.event()))) {
        n++;
      }
    }
    return n;
  }

  private void record(Event e) {
    synchronized (events) {
      events.addLast(e);
      while (events.size() > EVENTS_KEPT) {
        events.removeFirst();
      }
      eventsView = List.copyOf(events);
    }
  }

  private String sender(long pid, String comm) {
    if (pid == 0) {
      return "the kernel";
    }
    String cmd = proc.commandLine(pid);
    return "pid " + pid + " (" + (cmd.isEmpty() ? comm : cmd.length() > 80 ? cmd.substring(0, 80) + "..." : cmd) + ")";
  }

  private static String who(long pid, WorkerIdentity w) {
    return (w == null ? "pid" : w.workerName()) + "[" + pid + "]";
  }

  /** The workers now (immutable). */
  public List<Loop> loops() {
    return loops;
  }

  /** What the gauges and the busy histogram read. */
  public List<WorkerHealthTelemetry.WorkerLoop> gauges() {
    return gauges;
  }

  /** Recent lifecycle events, oldest first. */
  public List<Event> events() {
    return eventsView;
  }

  /** Detaches the programs; a tick after this does nothing. */
  public synchronized void close() {
    if (!closed) {
      closed = true;
      probe.close();
    }
  }
}
