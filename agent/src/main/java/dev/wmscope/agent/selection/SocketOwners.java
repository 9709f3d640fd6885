package dev.wmscope.agent.selection;

import dev.wmscope.loader.ConnRecord;
import dev.wmscope.otel.ConnectionEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Which processes hold a socket the kernel reported only by inode (adopted connections, and the
 * listeners of the live reads), from the candidates' {@code /proc/PID/fd}, with a cache: a
 * listener's inode is asked every live read, an adopted connection's once. "Held by none of the
 * candidates" is asked again after {@link #RECHECK_UNHELD_NANOS}: a worker the master just forked
 * makes its links before discovery makes it a candidate (a restarted Gateway's link to the
 * Register), and a cached "none" would keep its link out for good.
 *
 * <p>Not thread-safe: the poll thread owns it.
 */
public final class SocketOwners {
  /** The cache starts over beyond this many inodes (a churning host's closed sockets). */
  static final int MAX_CACHED_INODES = 16_384;

  private final InodeOwners owners;
  private final Supplier<Collection<Long>> candidates;
  private final ProcessDirectory directory;
  /** How long "held by none of the candidates" stands before the candidates are asked again. */
  static final long RECHECK_UNHELD_NANOS = 1_000_000_000L;

  private final Map<Long, Set<Long>> holders = new HashMap<>();
  private final Map<Long, Long> unheldSince = new HashMap<>();
  private final java.util.function.LongSupplier clock;

  /**
   * @param candidates the processes whose descriptors may hold such sockets (the watched ones)
   * @param directory  the Workerman identity of an owner found this way
   */
  public SocketOwners(InodeOwners owners, Supplier<Collection<Long>> candidates, ProcessDirectory directory) {
    this(owners, candidates, directory, System::nanoTime);
  }

  SocketOwners(InodeOwners owners, Supplier<Collection<Long>> candidates, ProcessDirectory directory,
      java.util.function.LongSupplier clock) {
    this.owners = owners;
    this.candidates = candidates;
    this.directory = directory;
    this.clock = clock;
  }

  /** Finds the holders of every inode not known yet with one scan of the candidates' fds. */
  public void prefetch(Collection<Long> inodes) {
    List<Long> unknown = new ArrayList<>();
    long now = clock.getAsLong();
    for (long i : inodes) {
      if (i == 0) {
        continue;
      }
      Long unheld = unheldSince.get(i);
      if (!holders.containsKey(i) || unheld != null && now - unheld >= RECHECK_UNHELD_NANOS) {
        unknown.add(i);
      }
    }
    if (!unknown.isEmpty()) {
      Map<Long, Set<Long>> found = owners.resolve(unknown, candidates.get());
      for (long i : unknown) {
        Set<Long> h = found.getOrDefault(i, Set.of());
        holders.put(i, h);
        if (h.isEmpty()) {
          unheldSince.put(i, now);
        } else {
          unheldSince.remove(i);
        }
      }
    }
  }

  /** Prefetches the owners of a batch's adopted connections. */
  public void prefetchRecords(List<ConnRecord> batch) {
    List<Long> inodes = new ArrayList<>();
    for (ConnRecord r : batch) {
      if (!r.attributed() && r.sockInode() != 0) {
        inodes.add(r.sockInode());
      }
    }
    prefetch(inodes);
  }

  /** The processes holding the socket (empty when none of the candidates does). */
  public Set<Long> holders(long inode) {
    prefetch(List.of(inode));
    return holders.getOrDefault(inode, Set.of());
  }

  /**
   * The event of an adopted connection with its owner, when the kernel did not see who owns it
   * (no attribution hook ran) but its inode is held by a candidate; else the event unchanged.
   */
  public ConnectionEvent withOwner(ConnRecord r, ConnectionEvent e) {
    if (r.attributed() || r.sockInode() == 0 || e.pid() > 0) {
      return e;
    }
    Set<Long> h = holders(r.sockInode());
    if (h.isEmpty()) {
      return e;
    }
    long pid = h.iterator().next();
    return e.withOwner(pid, owners.comm(pid), directory.lookup(pid));
  }

  /** Whether the process still exists. */
  public boolean running(long pid) {
    return owners.running(pid);
  }

  /** Keeps the cache bounded: starts over when it grew past {@link #MAX_CACHED_INODES}. */
  public void trim() {
    if (holders.size() > MAX_CACHED_INODES) {
      holders.clear();
      unheldSince.clear();
    }
  }
}
