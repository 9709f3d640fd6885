package dev.wmscope.agent.selection;

import dev.wmscope.loader.LiveSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Which untracked client ends to adopt: of the connections from this host to a watched port on
 * it that predate tracking (a BusinessWorker's link to a Gateway's inner port, made before
 * discovery watched either), only those a watched process holds, found by socket inode. A
 * local proxy's connections (nginx in front of webman) are left alone: their server ends are
 * tracked already and counting both ends would count the bytes twice.
 *
 * <p>Each adopted end is announced to {@link InternalTraffic} before its server end's record
 * is classified, so both ends of such a link are internal whichever the kernel adopts first.
 * Called on the poll thread, after a live read.
 */
public final class ClientAdoption {
  private final SocketOwners owners;
  private final Supplier<Collection<Long>> watched;
  private final InternalTraffic internal;

  public ClientAdoption(SocketOwners owners, Supplier<Collection<Long>> watched, InternalTraffic internal) {
    this.owners = owners;
    this.watched = watched;
    this.internal = internal;
  }

  /** The cookies to adopt of this pass's candidates. */
  public List<Long> choose(List<LiveSnapshot.ClientCandidate> candidates) {
    if (candidates.isEmpty()) {
      return List.of();
    }
    owners.prefetch(candidates.stream().map(LiveSnapshot.ClientCandidate::sockInode).filter(i -> i != 0).toList());
    Collection<Long> ours = watched.get();
    List<Long> out = new ArrayList<>();
    for (LiveSnapshot.ClientCandidate c : candidates) {
      if (c.sockInode() != 0 && owners.holders(c.sockInode()).stream().anyMatch(ours::contains)) {
        internal.expectClient(c.local(), c.remote());
        out.add(c.cookie());
      }
    }
    return out;
  }
}
