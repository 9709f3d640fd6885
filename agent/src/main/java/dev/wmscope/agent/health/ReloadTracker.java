package dev.wmscope.agent.health;

import dev.wmscope.otel.WorkerIdentity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reloads of Workerman masters, from the master's reload signal (SIGUSR1, SIGUSR2: graceful) to
 * the last replaced worker. Workerman replaces reloadable workers one at a time (signal one,
 * wait for its exit, fork its replacement, next; SIGKILL after stop_timeout) and signals the
 * others, which stay: so a reload is over when every old worker is gone, or when as many
 * workers started as exited and nothing changed for {@link #QUIET_NANOS} (workers that are not
 * reloadable, or a graceful reload still draining, are then reported as kept).
 *
 * <p>Pure bookkeeping on monotonic times: the caller feeds signals, exits and starts, and asks
 * for the reloads that are over. One thread.
 */
final class ReloadTracker {
  static final long QUIET_NANOS = 5_000_000_000L;
  static final long GIVE_UP_NANOS = 300_000_000_000L;

  /** One worker replaced: the old pid, its replacement (0: none yet), and why the old one ended. */
  record Replacement(String name, long oldPid, long newPid, String cause) {}

  /**
   * A finished reload.
   *
   * @param durationNanos  from the master's signal to the last old worker's exit (or start)
   * @param kept           old workers still running at the end (not reloadable, or draining)
   * @param gapNanos       per worker name, how long no process of that name ran (a listener
   *                       with no worker to accept)
   * @param complete       false when it was given up after {@link #GIVE_UP_NANOS}
   */
  record Report(long master, String startFile, String askedBy, boolean graceful, Instant startedAt,
      long startMono, long durationNanos, List<Replacement> replaced, Set<Long> kept, Set<Long> oldPids,
      Map<String, Long> gapNanos, boolean complete) {}

  private static final class Reload {
    final long master;
    final String startFile;
    final String askedBy;
    final boolean graceful;
    final Instant startedAt;
    final long startMono;
    final Map<Long, String> old; // pid -> name, alive at the signal
    final Set<Long> gone = new LinkedHashSet<>();
    final List<Replacement> replaced = new ArrayList<>();
    /** Exits (-1) and starts (+1) by worker name, replayed in time order at the end: they are fed
     * out of order (exits from the kernel's ring, starts from discovery ticks). */
    final List<long[]> changes = new ArrayList<>(); // {mono, +1/-1, name index}
    final List<String> names = new ArrayList<>();
    long lastChange;
    int starts;

    Reload(long master, String startFile, String askedBy, boolean graceful, long mono, Instant at,
        Map<Long, String> old) {
      this.master = master;
      this.startFile = startFile;
      this.askedBy = askedBy;
      this.graceful = graceful;
      this.startedAt = at;
      this.startMono = mono;
      this.old = new LinkedHashMap<>(old);
      this.lastChange = mono;
      old.values().forEach(n -> {
        if (!names.contains(n)) {
          names.add(n);
        }
      });
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
    if (byMaster.containsKey(master)) {
      return; // Workerman ignores a reload signal while it reloads
    }
    Map<Long, String> old = new LinkedHashMap<>();
    workers.forEach((pid, w) -> old.put(pid, w.workerName()));
    byMaster.put(master, new Reload(master, startFile, askedBy, graceful, mono, at, old));
  }

  boolean reloading(long master) {
    return byMaster.containsKey(master);
  }

  /** A worker of {@code master} exited at {@code mono}. */
  void exited(long master, long pid, String cause, long mono) {
    Reload r = byMaster.get(master);
    if (r == null || !r.old.containsKey(pid) || !r.gone.add(pid)) {
      return;
    }
    String name = r.old.get(pid);
    r.replaced.add(new Replacement(name, pid, 0, cause));
    r.changes.add(new long[] {mono, -1, r.names.indexOf(name)});
    r.lastChange = Math.max(r.lastChange, mono);
  }

  /** A new worker of {@code master} started at {@code mono} (its process start time). */
  void started(long master, long pid, String name, long mono) {
    Reload r = byMaster.get(master);
    if (r == null || r.old.containsKey(pid)) {
      return;
    }
    r.starts++;
    for (int i = 0; i < r.replaced.size(); i++) {
      Replacement x = r.replaced.get(i);
      if (x.newPid() == 0 && x.name().equals(name)) {
        r.replaced.set(i, new Replacement(name, x.oldPid(), pid, x.cause()));
        break;
      }
    }
    if (!r.names.contains(name)) {
      r.names.add(name);
    }
    r.changes.add(new long[] {mono, 1, r.names.indexOf(name)});
    r.lastChange = Math.max(r.lastChange, mono);
  }

  /** Per worker name, the time no process of that name ran, replaying exits and starts in order. */
  private static Map<String, Long> gaps(Reload r, long mono) {
    int[] running = new int[r.names.size()];
    long[] since = new long[r.names.size()];
    long[] total = new long[r.names.size()];
    r.old.values().forEach(n -> running[r.names.indexOf(n)]++);
    List<long[]> ordered = new ArrayList<>(r.changes);
    // at the same instant a start counts before an exit: a fork at the exit's moment leaves no gap
    ordered.sort(java.util.Comparator.<long[]>comparingLong(c -> c[0]).thenComparingLong(c -> -c[1]));
    for (long[] c : ordered) {
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
      out.put(r.names.get(i), total[i] + (running[i] == 0 && since[i] != 0 ? mono - since[i] : 0)); // still none
    }
    return out;
  }

  /** Reloads that are over at {@code mono}, removed from the tracker. */
  List<Report> finished(long mono) {
    List<Report> out = new ArrayList<>();
    for (var it = byMaster.values().iterator(); it.hasNext(); ) {
      Reload r = it.next();
      boolean allGone = r.gone.size() == r.old.size() && r.replaced.stream().allMatch(x -> x.newPid() != 0);
      boolean settled = r.gone.size() == r.starts && mono - r.lastChange >= QUIET_NANOS;
      boolean giveUp = mono - r.startMono >= GIVE_UP_NANOS;
      if (!allGone && !settled && !giveUp) {
        continue;
      }
      it.remove();
      Set<Long> kept = new LinkedHashSet<>(r.old.keySet());
      kept.removeAll(r.gone);
      Map<String, Long> gaps = gaps(r, mono);
      out.add(new Report(r.master, r.startFile, r.askedBy, r.graceful, r.startedAt, r.startMono,
          Math.max(0, r.lastChange - r.startMono), List.copyOf(r.replaced), kept, Set.copyOf(r.old.keySet()), gaps,
          !giveUp || allGone));
    }
    return out;
  }
}
