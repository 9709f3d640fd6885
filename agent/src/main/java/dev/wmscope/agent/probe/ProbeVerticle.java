package dev.wmscope.agent.probe;

import dev.wmscope.loader.ConnEventType;
import dev.wmscope.loader.ConnRecord;
import dev.wmscope.loader.ConnectionProbe;
import dev.wmscope.loader.MonotonicClock;
import dev.wmscope.otel.ConnectionEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Owns the kernel probe and its poll thread. Start loads and attaches the programs and
 * completes once they are attached (or fails with the loader's error); the thread then polls
 * the ring buffer in 100 ms slices and hands each slice's events to the listeners. Stop ends
 * the loop within one slice, then detaches everything.
 */
public final class ProbeVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(ProbeVerticle.class.getName());
  static final int POLL_SLICE_MILLIS = 100;

  private final ConnectionProbe.Options options;
  private final Set<Integer> ports;
  private final Set<Integer> pids;
  private final List<ConnectionListener> listeners;
  private final AtomicBoolean running = new AtomicBoolean();
  private final List<ConnRecord> batch = new ArrayList<>();
  private volatile ConnectionProbe probe;
  private Thread pollThread;

  public ProbeVerticle(ConnectionProbe.Options options, Set<Integer> ports, Set<Integer> pids,
      List<ConnectionListener> listeners) {
    this.options = options;
    this.ports = Set.copyOf(ports);
    this.pids = Set.copyOf(pids);
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public Future<?> start() {
    Promise<Void> attached = Promise.promise();
    running.set(true);
    pollThread = Thread.ofPlatform().name("wmscope-poll").start(() -> run(attached));
    return attached.future();
  }

  private void run(Promise<Void> attached) {
    RecordMapper mapper;
    try {
      mapper = new RecordMapper(new MonotonicClock());
      probe = ConnectionProbe.start(options, batch::add);
      ports.forEach(probe::watchPort);
      pids.forEach(probe::watchPid);
    } catch (RuntimeException e) {
      running.set(false);
      closeProbe();
      attached.fail(e);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "attached sock_ops to cgroup {0}; watching ports {1} pids {2}",
        options.cgroup(), ports, pids);
    attached.complete();
    while (running.get()) {
      try {
        probe.poll(POLL_SLICE_MILLIS);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "poll ring buffer: " + e.getMessage());
      }
      deliver(mapper);
    }
  }

  private void deliver(RecordMapper mapper) {
    if (batch.isEmpty()) {
      return;
    }
    for (ConnRecord r : batch) {
      ConnectionEvent e = mapper.toEvent(r);
      for (ConnectionListener l : listeners) {
        try {
          if (r.type() == ConnEventType.OPEN) {
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
    listeners.forEach(ConnectionListener::endOfBatch);
  }

  /** The running probe, or null before start and after stop. */
  public ConnectionProbe probe() {
    return probe;
  }

  @Override
  public Future<?> stop() {
    running.set(false);
    return vertx.executeBlocking(() -> {
      if (pollThread != null) {
        pollThread.join(5_000);
      }
      closeProbe();
      LOG.log(System.Logger.Level.INFO, "detached BPF programs");
      return null;
    });
  }

  private void closeProbe() {
    ConnectionProbe p = probe;
    probe = null;
    if (p != null) {
      p.close();
    }
  }
}
