package dev.wmscope.agent.selection;

import dev.wmscope.agent.discovery.WorkermanApp;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the kernel's watch maps and the process directory current: each pass rescans /proc,
 * applies the difference, and logs what changed in Workerman terms (an app appeared or
 * stopped, its workers were reloaded or re-forked). Passes run one at a time.
 */
public final class DiscoveryService {
  private static final System.Logger LOG = System.getLogger(DiscoveryService.class.getName());

  private final TargetScanner scanner;
  private final WatchReconciler reconciler;
  private final ProcessDirectory directory;
  private final InternalTraffic internal;
  private Map<WorkermanApp.Key, Set<Integer>> knownApps = Map.of();
  private volatile boolean firstPassDone;

  public DiscoveryService(TargetScanner scanner, WatchReconciler reconciler, ProcessDirectory directory,
      InternalTraffic internal) {
    this.scanner = scanner;
    this.reconciler = reconciler;
    this.directory = directory;
    this.internal = internal;
  }

  /** One pass; failures are logged and the previous state kept (the next pass retries). */
  public synchronized void pass() {
    TargetScanner.Pass pass;
    try {
      pass = scanner.scan();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "scan /proc: " + e.getMessage());
      return;
    }
    try {
      reconciler.apply(pass.targets());
    } catch (RuntimeException e) {
      // e.g. the watched-pid map is full under a broad --process-name: say so, keep going
      LOG.log(System.Logger.Level.WARNING, "update watched ports and pids: " + e.getMessage());
    }
    directory.update(pass.targets().workers(), System.nanoTime());
    internal.setWatchedPorts(pass.targets().ports());
    logAppChanges(pass.apps());
    firstPassDone = true;
  }

  public boolean firstPassDone() {
    return firstPassDone;
  }

  /**
   * An app is announced once it has a worker: Workerman's own stop, restart, status and
   * connections commands give their short-lived process the master's title for a moment, and a
   * master found before its first fork is not an app yet; neither is logged as found, nor its
   * end as stopped.
   */
  private void logAppChanges(List<WorkermanApp> apps) {
    Map<WorkermanApp.Key, Set<Integer>> now = new HashMap<>();
    for (WorkermanApp app : apps) {
      Set<Integer> before = knownApps.get(app.key());
      if (before == null && app.workerPids().isEmpty()) {
        continue; // not announced (yet)
      }
      now.put(app.key(), app.workerPids());
      if (before == null) {
        LOG.log(System.Logger.Level.INFO, "found Workerman app {0} (master {1}): {2} workers, ports {3}",
            app.startFile(), pid(app.masterPid()), app.workers().size(), app.tcpListenPorts());
      } else if (!before.equals(app.workerPids())) {
        LOG.log(System.Logger.Level.INFO, "Workerman app {0} (master {1}): workers now {2} ({3})",
            app.startFile(), pid(app.masterPid()), app.workerPids(), change(before, app.workerPids()));
      }
    }
    knownApps.keySet().stream().filter(k -> !now.containsKey(k)).forEach(k ->
        LOG.log(System.Logger.Level.INFO, "Workerman app {0} (master {1}) stopped", k.startFile(), pid(k.masterPid())));
    knownApps = now;
  }

  /**
   * How a worker set changed: all replaced is a reload; a master that had none has forked;
   * otherwise how many are new (re-forked after a crash, or added) and how many exited (a crash
   * not yet re-forked, or a stop in progress).
   */
  static String change(Set<Integer> before, Set<Integer> now) {
    long added = now.stream().filter(p -> !before.contains(p)).count();
    long gone = before.stream().filter(p -> !now.contains(p)).count();
    if (before.isEmpty()) {
      return "forked";
    }
    if (added > 0 && gone == before.size()) {
      return "reloaded";
    }
    List<String> parts = new java.util.ArrayList<>();
    if (added > 0) {
      parts.add(added + " re-forked or added");
    }
    if (gone > 0) {
      parts.add(gone + " exited");
    }
    return String.join(", ", parts);
  }

  /** A pid as text: a number argument would be formatted with grouping ("master 13,144"). */
  private static String pid(int pid) {
    return Integer.toString(pid);
  }
}
