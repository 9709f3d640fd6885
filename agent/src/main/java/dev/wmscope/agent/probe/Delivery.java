package dev.wmscope.agent.probe;

import dev.wmscope.agent.requests.RequestTracker;
import dev.wmscope.agent.selection.SocketOwners;
import dev.wmscope.loader.ConnEventType;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.DataRecord;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one path a drained batch takes, in kernel order: each connection record is mapped to a
 * bridge event ({@link RecordMapper}), given the owner only /proc knows when the kernel could
 * not tell ({@link SocketOwners}), recorded in the live state (which completes a close with the
 * identity the connection opened with), then handed to every listener (bridge, writers). The
 * data records of request capture follow their connection: a connection's records are framed
 * before its close is applied ({@link RequestTracker}), and what the batch framed goes to the
 * request listeners after every open of the batch is known.
 *
 * <p>Threading: the poll thread only. A listener that throws is logged and skipped; the others
 * and the rest of the batch still get the event.
 */
public final class Delivery {
  private static final System.Logger LOG = System.getLogger(Delivery.class.getName());

  private final RecordMapper mapper;
  private final SocketOwners owners;
  private final LiveState live;
  private final List<ConnectionListener> listeners;
  private final RequestTracker requests;

  /**
   * @param requests request framing, or null when request capture is off
   */
  public Delivery(RecordMapper mapper, SocketOwners owners, LiveState live, List<ConnectionListener> listeners,
      RequestTracker requests) {
    this(mapper, owners, live, listeners, requests, null);
  }

  /**
   * @param requests request framing, or null when request capture is off
   * @param adoption which client candidates of a live read to adopt, or null for none
   */
  public Delivery(RecordMapper mapper, SocketOwners owners, LiveState live, List<ConnectionListener> listeners,
      RequestTracker requests, dev.wmscope.agent.selection.ClientAdoption adoption) {
    this.adoption = adoption;
    this.mapper = mapper;
    this.owners = owners;
    this.live = live;
    this.listeners = List.copyOf(listeners);
    this.requests = requests;
  }

  private final dev.wmscope.agent.selection.ClientAdoption adoption;

  /** The client candidates of a live read to adopt (a watched process holds them). */
  public List<Long> clientsToAdopt(List<dev.wmscope.loader.LiveSnapshot.ClientCandidate> candidates) {
    return adoption == null ? List.of() : adoption.choose(candidates);
  }

  /** Whether data records are wanted (request capture is on). */
  public boolean framesRequests() {
    return requests != null;
  }

  public LiveState live() {
    return live;
  }

  /** Delivers one drained batch; both lists are consumed (cleared). */
  public void deliver(List<ConnRecord> batch, List<DataRecord> data) {
    if (batch.isEmpty()) {
      frame(data);
      return;
    }
    Map<Long, List<DataRecord>> dataByConn = byConnection(data);
    owners.prefetchRecords(batch);
    live.eventsHandled(batch.size());
    for (ConnRecord r : batch) {
      ConnectionEvent e = mapper.toEvent(r);
      boolean open = r.type() == ConnEventType.OPEN;
      try {
        if (open) {
          e = owners.withOwner(r, e);
          live.opened(r.cookie(), e);
          mapper.drainTurnedInternal(live::turnedInternal); // a link whose other end opened first
        } else {
          e = live.closed(r.cookie(), e);
          if (requests != null) {
            if (!dataByConn.isEmpty()) {
              feed(dataByConn.remove(r.cookie()));
            }
            requests.closed(r.cookie(), e, r.endMonoNanos());
          }
        }
      } catch (RuntimeException ex) {
        LOG.log(System.Logger.Level.WARNING, "record connection event: " + ex);
      }
      for (ConnectionListener l : listeners) {
        try {
          if (open) {
            l.opened(e);
          } else {
            l.closed(e);
          }
        } catch (RuntimeException ex) {
          LOG.log(System.Logger.Level.WARNING, "deliver connection event: " + ex);
        }
      }
    }
    batch.clear();
    dataByConn.values().forEach(this::feed);
    endRequests();
    live.publishIfStale(MonotonicClock.monotonicNow());
    listeners.forEach(ConnectionListener::endOfBatch);
  }

  /** Tells the listeners that the kernel's records up to {@code monoNanos} are all delivered. */
  public void deliveredThrough(long monoNanos) {
    for (ConnectionListener l : listeners) {
      l.deliveredThrough(monoNanos);
    }
  }

  /** A batch of data records only: framed, then what was framed handed on. */
  private void frame(List<DataRecord> data) {
    if (requests == null) {
      data.clear();
      return;
    }
    feed(data);
    data.clear();
    endRequests();
  }

  /**
   * The data records by connection, each connection's in kernel order (the list is cleared);
   * an immutable empty map when there are none.
   */
  private Map<Long, List<DataRecord>> byConnection(List<DataRecord> data) {
    if (requests == null || data.isEmpty()) {
      data.clear();
      return Map.of();
    }
    Map<Long, List<DataRecord>> out = new LinkedHashMap<>();
    for (DataRecord d : data) {
      out.computeIfAbsent(d.cookie(), c -> new ArrayList<>(4)).add(d);
    }
    data.clear();
    return out;
  }

  private void feed(List<DataRecord> records) {
    if (records == null) {
      return;
    }
    try {
      records.forEach(requests::data);
    } catch (RuntimeException ex) {
      LOG.log(System.Logger.Level.WARNING, "frame requests: " + ex);
    }
  }

  private void endRequests() {
    if (requests == null) {
      return;
    }
    try {
      requests.endOfBatch(live::openEvent);
    } catch (RuntimeException ex) {
      LOG.log(System.Logger.Level.WARNING, "deliver requests: " + ex);
    }
  }

  /** The live read's sweep of request state (a close record lost leaves state behind). */
  void sweepRequests() {
    if (requests != null) {
      requests.retain(live::isOpen, 100);
    }
  }
}
