package dev.wmscope.agent.selection;

import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntConsumer;

/**
 * Applies successive {@link WatchTargets} to the kernel's watch maps as differences: new ports
 * and pids are added, stale ones removed, unchanged ones untouched. Called from one thread at a
 * time (the discovery pass).
 */
public final class WatchReconciler {
  private static final System.Logger LOG = System.getLogger(WatchReconciler.class.getName());

  /** The kernel side: the probe's watch/unwatch calls. */
  public interface WatchMaps {
    void watchPort(int port);

    /** Watches a port and, with {@code capture}, frames its connections' requests. */
    default void watchPort(int port, boolean capture) {
      watchPort(port);
    }

    void unwatchPort(int port);

    void watchPid(int pid);

    void unwatchPid(int pid);
  }

  private final WatchMaps maps;
  private final Set<Integer> ports = new HashSet<>();
  private final Set<Integer> pids = new HashSet<>();
  private final Set<Integer> captured = new HashSet<>();

  public WatchReconciler(WatchMaps maps) {
    this.maps = maps;
  }

  public void apply(WatchTargets targets) {
    Set<Integer> capture = targets.capturePorts();
    Set<Integer> addedPorts = diff(targets.ports(), ports, p -> maps.watchPort(p, capture.contains(p)));
    Set<Integer> removedPorts = diff(Set.copyOf(ports), targets.ports(), maps::unwatchPort);
    ports.removeAll(removedPorts);
    ports.addAll(addedPorts);
    // a port kept whose worker now does (or no longer does) speak HTTP: its flag changes
    for (int p : ports) {
      if (!addedPorts.contains(p) && capture.contains(p) != captured.contains(p)) {
        maps.watchPort(p, capture.contains(p));
      }
    }
    captured.clear();
    for (int p : ports) {
      if (capture.contains(p)) {
        captured.add(p);
      }
    }
    Set<Integer> addedPids = diff(targets.pids(), pids, maps::watchPid);
    Set<Integer> removedPids = diff(Set.copyOf(pids), targets.pids(), maps::unwatchPid);
    pids.removeAll(removedPids);
    pids.addAll(addedPids);
    if (!addedPorts.isEmpty() || !removedPorts.isEmpty()) {
      LOG.log(System.Logger.Level.INFO, "watched ports now {0} (+{1} -{2})", new TreeSet<>(ports), addedPorts, removedPorts);
    }
    if (!addedPids.isEmpty() || !removedPids.isEmpty()) {
      LOG.log(System.Logger.Level.INFO, "watched pids now {0} (+{1} -{2})", new TreeSet<>(pids), addedPids, removedPids);
    }
  }

  public Set<Integer> ports() {
    return Set.copyOf(ports);
  }

  public Set<Integer> pids() {
    return Set.copyOf(pids);
  }

  /** Calls {@code action} for every element of {@code a} not in {@code b}; returns them. */
  private static Set<Integer> diff(Set<Integer> a, Set<Integer> b, IntConsumer action) {
    Set<Integer> out = new TreeSet<>();
    for (int x : a) {
      if (!b.contains(x)) {
        action.accept(x);
        out.add(x);
      }
    }
    return out;
  }
}
