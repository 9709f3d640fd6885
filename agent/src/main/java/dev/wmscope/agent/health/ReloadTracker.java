package dev.wmscope.agent.health;

import dev.wmscope.otel.WorkerIdentity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reloads and restarts of Workerman masters.
 *
 * <p>A reload runs from the master's reload signal (SIGUSR1, SIGUSR2: graceful) to the last
 * replaced worker. Workerman replaces reloadable workers one at a time (signal one, wait for its
 * exit, fork its replacement, next; SIGKILL after stop_timeout) and signals the others, which
 * stay: so a reload is over when every old worker is gone and replaced, or when as many workers
 * started as exited and nothing changed for {@link #QUIET_NANOS} (workers that are not
 * reloadable, or a graceful reload still draining, are then reported as kept).
 *
 * <p>A restart ({@code php start.php restart [-g]}) runs from the master's stop signal (SIGINT,
 * SIGTERM, SIGHUP; SIGQUIT: graceful) to the last worker of a new master: the command stops the
 * running master, waits for its exit and becomes (or with {@code -d} forks) a new master of the
 * same start file. A stop signal is a restart only once a worker of another master with the same
 * start file starts (a {@code stop} helper briefly looks like a master but never forks); without
 * one within {@link #RESTART_WAIT_NANOS} of the old master's exit it was a plain stop and is
 * dropped without a report. A restart is over when every old worker is gone and replaced, or
 * when nothing changed for {@link #QUIET_NANOS} after the new master's first worker.
 *
 * <p>Either is given up after {@link #GIVE_UP_NANOS} (reported as incomplete).
 *
 * <p>Pure bookkeeping on monotonic times: the caller feeds signals, exits and starts in any
 * order, and asks for the reports that are over. One thread.
 */
final class ReloadTracker {
  static final long QUIET_NANOS = 5_000_000_000L;
  static final long GIVE_UP_NANOS = 300_000_000_000L;
  /** How long after the old master's exit a new master's worker makes a stop a restart. */
  static final long RESTART_WAIT_NANOS = 30_000_000_000L;

  /** One worker replaced: the old pid, its replacement (0: none yet), and why the old one ended. */
  record Replacement(String name, long oldPid, long newPid, String cause) {}

  /**
   * A finished reload or restart.
   *
   * @param master         the master signalled (a restart's old master)
   * @param newMaster      a restart's new master; 0 for a reload
   * @param durationNanos  from the master's signal to the last old worker's exit or new worker's
   *                       start
   * @param replaced       old workers in the order they exited, paired by worker name with the
   *                       new ones in the order they started
   * @param kept           old workers still running at the end (not reloadable, or draining)
   * @param gapNanos       per worker name, how long no process of that name ran (a listener
   *                       with no worker to accept)
   * @param complete       false when it was given up after {@link #GIVE_UP_NANOS}
   */
  record Report(long master, long newMaster, String startFile, String askedBy, boolean graceful, Instant startedAt,
      long startMono, long durationNanos, List<Replacement> replaced, Set<Long> kept, Set<Long> oldPids,
      Map<String, Long> gapNanos, boolean complete) {
    boolean restart() {
      return newMaster != 0;
    }
  }

  private record Exit(long pid, String name, String cause, long mono) {}

  /** A start known to within {@code step} after {@code mono} (0: exact, a kernel fork time). */
  private record Start(long pid, String name, long mono, long step) {}

  private static final class Reload {
    final long master;
    final String startFile;
    final String askedBy;
    final boolean graceful;
    final Instant startedAt;
    final long startMono;
    final Map<Long, String> old; // pid -> name, alive at the signal
    /** Exits of old workers and starts of new ones, as fed (out of time order: exits come from the
     * kernel's ring, starts from discovery ticks); paired and replayed in time order at the end. */
    final Map<Long, Exit> exits = new LinkedHashMap<>();
    final List<Start> starts = new ArrayList<>();
    final boolean restart;
    /** Masters of the same start file running at the signal (another container): never the new one. */
    final Set<Long> otherMasters;
    long newMaster;
    long masterExit;
    long lastChange;

    Reload(long master, String startFile, String askedBy, boolean graceful, long mono, Instant at,
        Map<Long, WorkerIdentity> workers, boolean restart, Set<Long> otherMasters) {
      this.master = master;
      this.startFile = startFile;
      this.askedBy = askedBy;
      this.graceful = graceful;
      this.startedAt = at;
      this.startMono = mono;
      this.old = new LinkedHashMap<>();
      workers.forEach((pid, w) -> old.put(pid, w.workerName()));
      this.restart = restart;
      this.otherMasters = Set.copyOf(otherMasters);
      this.lastChange = mono;
    }

    /** Old workers paired with new ones of the same name, each in time order. */
    List<Replacement> replaced() {
      Map<String, List<Start>> byName = new HashMap<>();
      starts.stream().sorted(Comparator.comparingLong(Start::mono))
          .forEach(s -> byName.computeIfAbsent(s.name(), n -> new ArrayList<>()).add(s));
      List<Replacement> out = new ArrayList<>();
      exits.values().stream().sorted(Comparator.comparingLong(Exit::mono)).forEach(x -> {
        List<Start> free = byName.getOrDefault(x.name(), List.of());
        long next = free.isEmpty() ? 0 : free.removeFirst().pid();
        out.add(new Replacement(x.name(), x.pid(), next, x.cause()));
      });
      return out;
    }
  }

  private final Map<Long, Reload> byMaster = new HashMap<>();

  /** The master got its reload signal; {@code workers} are its workers now (pid -> identity). */
  void begin(long master, String startFile, String askedBy, boolean graceful, long mono,
      Map<Long, WorkerIdentity> workers) {
    begin(master, startFile, askedBy, graceful, mono, Instant.now(), workers);
  }

  /** As above, with the wall-clock time of the signal ({@code at}). */
  void begin(long master, String startFile, String askedBy, boolean graceful, long mono, Instant at,
      Map<Long, WorkerIdentity> workers) {
    if (!byMaster.containsKey(master)) { // Workerman ignores a reload signal while it reloads
      byMaster.put(master, new Reload(master, startFile, askedBy, graceful, mono, at, workers, false, Set.of()));
    }
  }

  /**
   * The master got a stop signal: a restart if a new master of {@code startFile} follows.
   *
   * @param otherMasters masters of the same start file running now, which cannot be the new one
   */
  void beginRestart(long master, String startFile, String askedBy, boolean graceful, long mono, Instant at,
      Map<Long, WorkerIdentity> workers, Set<Long> otherMasters) {
    if (!byMaster.containsKey(master)) { // a second stop signal changes nothing; a reload in progress goes on
      byMaster.put(master, new Reload(master, startFile, askedBy, graceful, mono, at, workers, true, otherMasters));
    }
  }

  boolean reloading(long master) {
    return byMaster.containsKey(master);
  }

  /** A worker of {@code master} exited at {@code mono}. */
  void exited(long master, long pid, String cause, long mono) {
    Reload r = byMaster.get(master);
    if (r == null || !r.old.containsKey(pid) || r.exits.containsKey(pid)) {
      return;
    }
    r.exits.put(pid, new Exit(pid, r.old.get(pid), cause, mono));
    r.lastChange = Math.max(r.lastChange, mono);
  }

  /** A master exited (or is gone from /proc) at {@code mono}: a restart's wait for its successor begins. */
  void masterExited(long master, long mono) {
    Reload r = byMaster.get(master);
    if (r != null && r.restart && (r.masterExit == 0 || mono < r.masterExit)) {
      r.masterExit = mono;
    }
  }

  /**
   * A new worker of {@code master}, running {@code startFile}, started at {@code mono} (its
   * process start time). The first one of another master with a restarting master's start file
   * makes that master the restart's new master.
   */
  void started(long master, String startFile, long pid, String name, long mono) {
    started(master, startFile, pid, name, mono, 0);
  }

  /**
   * As {@link #started(long, String, long, String, long)} for a start known only to within
   * {@code step} after {@code mono} (/proc's start times come in 10 ms steps, and a Workerman
   * restart or reload replaces a worker within a few ms of its exit).
   */
  void started(long master, String startFile, long pid, String name, long mono, long step) {
    Reload r = byMaster.get(master);
    if (r == null) {
      r = byMaster.values().stream().filter(x -> x.restart && x.newMaster == master).findFirst()
          .or(() -> byMaster.values().stream().filter(x -> x.restart && x.newMaster == 0
              && x.startFile.equals(startFile) && !x.otherMasters.contains(master) && mono + step >= x.startMono)
              .findFirst())
          .orElse(null);
      if (r == null) {
        return;
      }
      r.newMaster = master;
    } else if (r.restart) {
      return; // the old master forks nothing while it stops
    }
    if (r.old.containsKey(pid) || r.starts.stream().anyMatch(s -> s.pid() == pid)) {
      return;
    }
    r.starts.add(new Start(pid, name, mono, step));
    r.lastChange = Math.max(r.lastChange, mono);
  }

  /** Per worker name, the time no process of that name ran, replaying exits and starts in order. */
  private static Map<String, Long> gaps(Reload r, long mono) {
    Set<String> distinct = new LinkedHashSet<>(r.old.values());
    r.starts.forEach(s -> distinct.add(s.name()));
    List<String> names = new ArrayList<>(distinct);
    List<long[]> changes = new ArrayList<>(); // {mono, +1/-1, name index}
    r.exits.values().forEach(x -> changes.add(new long[] {x.mono(), -1, names.indexOf(x.name())}));
    r.starts.forEach(s -> changes.add(new long[] {startEstimate(r, s), 1, names.indexOf(s.name())}));
    int[] running = new int[names.size()];
    long[] since = new long[names.size()];
    long[] total = new long[names.size()];
    r.old.values().forEach(n -> running[names.indexOf(n)]++);
    // at the same instant a start counts before an exit: a fork at the exit's moment leaves no gap
    changes.sort(Comparator.<long[]>comparingLong(c -> c[0]).thenComparingLong(c -> -c[1]));
    for (long[] c : changes) {
      int i = (int) c[2];
      if (c[1] < 0 && --running[i] == 0) {
        since[i] = c[0];
      } else if (c[1] > 0 && running[i]++ == 0 && since[i] != 0) {
        total[i] += Math.max(0, c[0] - since[i]);
        since[i] = 0;
      }
    }
    Map<String, Long> out = new TreeMap<>();
    for (int i = 0; i < running.length; i++) {
      out.put(names.get(i), total[i] + (running[i] == 0 && since[i] != 0 ? mono - since[i] : 0)); // still none
    }
    return out;
  }

  /**
   * When a start most likely was: exact when known; else the middle of what remains of its step
   * after an exit of its name within that step (a replacement starts after the worker it
   * replaces: a start file cannot have two of one worker running at once unless counted so),
   * else the middle of the step. A /proc time taken as is put restarts' new workers up to 10 ms
   * early, before the old ones' exits: a gap of 0 ms where there was one.
   */
  private static long startEstimate(Reload r, Start s) {
    if (s.step() == 0) {
      return s.mono();
    }
    long latestExitInStep = -1;
    for (Exit x : r.exits.values()) {
      if (x.name().equals(s.name()) && x.mono() >= s.mono() && x.mono() < s.mono() + s.step()) {
        latestExitInStep = Math.max(latestExitInStep, x.mono());
      }
    }
    return latestExitInStep >= 0 ? (latestExitInStep + s.mono() + s.step() + 1) / 2 : s.mono() + s.step() / 2;
  }

  /** Reloads and restarts that are over at {@code mono}, removed from the tracker. */
  List<Report> finished(long mono) {
    List<Report> out = new ArrayList<>();
    for (var it = byMaster.values().iterator(); it.hasNext(); ) {
      Reload r = it.next();
      boolean giveUp = mono - r.startMono >= GIVE_UP_NANOS;
      if (r.restart && r.newMaster == 0) {
        // no new master's worker yet: a plain stop once the wait after the old master's exit is over
        if (giveUp || (r.masterExit != 0 && mono - r.masterExit >= RESTART_WAIT_NANOS)) {
          it.remove();
        }
        continue;
      }
      List<Replacement> replaced = r.replaced();
      boolean allGone = r.exits.size() == r.old.size() && replaced.stream().allMatch(x -> x.newPid() != 0);
      boolean quiet = mono - r.lastChange >= QUIET_NANOS;
      boolean settled = quiet && (r.restart || r.exits.size() == r.starts.size());
      if (!allGone && !settled && !giveUp) {
        continue;
      }
      it.remove();
      Set<Long> kept = new LinkedHashSet<>(r.old.keySet());
      kept.removeAll(r.exits.keySet());
      out.add(new Report(r.master, r.restart ? r.newMaster : 0, r.startFile, r.askedBy, r.graceful, r.startedAt,
          r.startMono, Math.max(0, r.lastChange - r.startMono), replaced, kept, Set.copyOf(r.old.keySet()),
          gaps(r, mono), !giveUp || allGone));
    }
    return out;
  }
}
