package dev.wmscope.agent.selection;

import dev.wmscope.otel.WorkerIdentity;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * pid -> Workerman identity, shared between the discovery pass (writer) and the poll thread
 * (reader). A process that disappears stays known for a grace period, so connections it served
 * that close after it exited (or whose records arrive late) still carry its worker's name.
 */
public final class ProcessDirectory {
  static final long GRACE_NANOS = 120_000_000_000L;

  private record Entry(WorkerIdentity identity, long goneSinceNanos) {}

  private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();

  /** Identity of a pid, or null when it is not a known Workerman process. */
  public WorkerIdentity lookup(long pid) {
    Entry e = entries.get(pid);
    return e == null ? null : e.identity();
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
