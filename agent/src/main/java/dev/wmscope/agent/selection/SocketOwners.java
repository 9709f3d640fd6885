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
 * listener's inode is asked every live read, an adopted connection's once.
 *
 * <p>Not thread-safe: the poll thread owns it.
 */
public final class SocketOwners {
  /** The cache starts over beyond this many inodes (a churning host's closed sockets). */
  static final int MAX_CACHED_INODES = 16_384;

  private final InodeOwners owners;
  private final Supplier<Collection<Long>> candidates;
  private final ProcessDirectory directory;
  private final Map<Long, Set<Long>> holders = new HashMap<>();

  /**
   * @param candidates the processes whose descriptors may hold such sockets (the watched ones)
   * @param directory  the Workerman identity of an owner found this way
   */
  public SocketOwners(InodeOwners owners, Supplier<Collection<Long>> candidates, ProcessDirectory directory) {
    this.owners = owners;
    this.candidates = candidates;
    this.directory = directory;
  }

  /** Finds the holders of every inode not known yet with one scan of the candidates' fds. */
  public void prefetch(Collection<Long> inodes) {
    List<Long> unknown = new ArrayList<>();
    for (long i : inodes) {
      if (i != 0 && !holders.containsKey(i)) {
        unknown.add(i);
      }
    }
    if (!unknown.isEmpty()) {
      Map<Long, Set<Long>> found = owners.resolve(unknown, candidates.get());
      unknown.forEach(i -> holders.put(i, found.getOrDefault(i, Set.of())));
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
    }
  }
}
