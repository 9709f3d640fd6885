package dev.wmscope.agent.selection;

import dev.wmscope.otel.WorkerIdentity;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * pid -> Workerman identity, shared between the discovery pass (writer) and the poll thread
 * (reader). A process that disappears stays known for a grace period, so connections it served
 * that close after it exited (or whose records arrive late) still carry its worker's name.
 *
 * <p>A pid the last pass did not know (a worker forked or reloaded since) is resolved on
 * demand from /proc through the resolver, at most once per second per pid, so the first
 * connections of new workers carry their identity too.
 */
public final class ProcessDirectory {
  static final long GRACE_NANOS = 120_000_000_000L;

  private record Entry(WorkerIdentity identity, long goneSinceNanos) {}

  private static final long RETRY_NANOS = 1_000_000_000L;

  private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, Long> misses = new ConcurrentHashMap<>();
  private final LongFunction<Optional<WorkerIdentity>> resolver;

  /** A directory that knows only what discovery passes tell it. */
  public ProcessDirectory() {
    this(pid -> Optional.empty());
  }

  /** @param resolver looks an unknown pid up directly (in /proc), empty if not Workerman */
  public ProcessDirectory(LongFunction<Optional<WorkerIdentity>> resolver) {
    this.resolver = resolver;
  }

  /** Identity of a pid, or null when it is not a known Workerman process. */
  public WorkerIdentity lookup(long pid) {
    Entry e = entries.get(pid);
    if (e != null) {
      return e.identity();
    }
    long now = System.nanoTime();
    Long missed = misses.get(pid);
    if (missed != null && now - missed < RETRY_NANOS) {
      return null;
    }
    Optional<WorkerIdentity> found = resolver.apply(pid);
    if (found.isPresent()) {
      misses.remove(pid);
      entries.putIfAbsent(pid, new Entry(found.get(), 0));
      return found.get();
    }
    if (misses.size() > 10_000) {
      misses.clear(); // bounded: non-Workerman pids come and go
    }
    misses.put(pid, now);
    return null;
  }

  /** Replaces the live set; processes no longer present start their grace period. */
  public void update(Map<Long, WorkerIdentity> live, long nowNanos) {
    Map<Long, Entry> next = new HashMap<>();
    live.forEach((pid, id) -> next.put(pid, new Entry(id, 0)));
    entries.forEach((pid, e) -> {
      if (!live.containsKey(pid)) {
        long gone = e.goneSinceNanos() == 0 ? nowNanos : e.goneSinceNanos();
        if (nowNanos - gone < GRACE_NANOS) {
          next.put(pid, new Entry(e.identity(), gone));
        }
      }
    });
    entries.putAll(next);
    entries.keySet().retainAll(next.keySet());
  }

  /** Known pids that are currently alive (not in their grace period). */
  public Map<Long, WorkerIdentity> live() {
    Map<Long, WorkerIdentity> out = new HashMap<>();
    entries.forEach((pid, e) -> {
      if (e.goneSinceNanos() == 0) {
        out.put(pid, e.identity());
      }
    });
    return out;
  }
}
