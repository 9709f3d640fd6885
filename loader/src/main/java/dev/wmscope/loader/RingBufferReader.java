package dev.wmscope.loader;

import dev.wmscope.loader.internal.Libbpf;
import dev.wmscope.loader.internal.Upcalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.function.Consumer;

/**
 * Reads BPF ring buffer maps with libbpf's ring_buffer__poll and an FFM upcall per map: one
 * poll waits on all of them ({@link #add}).
 *
 * <p>The handler runs on the polling thread, once per record, with a segment that is only
 * valid during the call: it must copy what it needs and must not block. Exceptions thrown by
 * the handler are counted ({@link #handlerErrors()}), never propagated through native code.
 *
 * <p>Threading: {@link #poll} must be called from one thread at a time; {@link #close()} must
 * not run concurrently with a poll (the owner stops its poll loop first). Closing frees the
 * libbpf ring buffer and then the upcall stub; it is idempotent.
 */
public final class RingBufferReader implements AutoCloseable {
  private static final MethodHandle ON_SAMPLE;

  static {
    try {
      ON_SAMPLE = MethodHandles.lookup().findVirtual(Sink.class, "onSample",
          MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  private final Arena arena = Arena.ofShared();
  private MemorySegment rb;
  private long handlerErrors;
  private int rings = 1;

  /** One map's handler; counts what it throws. */
  private final class Sink {
    private final Consumer<MemorySegment> handler;

    Sink(Consumer<MemorySegment> handler) {
      this.handler = handler;
    }

    @SuppressWarnings("unused") // called from native code
    int onSample(MemorySegment ctx, MemorySegment data, long size) {
      try {
        handler.accept(data.reinterpret(size));
      } catch (Throwable t) {
        handlerErrors++;
      }
      return 0;
    }
  }

  public RingBufferReader(BpfMap map, Consumer<MemorySegment> handler) {
    this.name = map.name();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment stub = Upcalls.stub(ON_SAMPLE.bindTo(new Sink(handler)), Libbpf.SAMPLE_FN, arena);
      MemorySegment state = Native.captureState(call);
      LibbpfLog.capture();
      var ptr = (MemorySegment) Libbpf.RING_BUFFER_NEW_E.invokeExact(state, map.fd(), stub,
          MemorySegment.NULL, MemorySegment.NULL);
      Native.checkPtr("create ring buffer reader for " + name, ptr, state);
      LibbpfLog.drain();
      rb = ptr;
    } catch (Throwable t) {
      LibbpfLog.drain();
      arena.close();
      throw Libbpf.rethrow(t);
    }
  }

  /** Reads one more ring buffer map in the same poll, with its own handler. */
  public void add(BpfMap map, Consumer<MemorySegment> handler) {
    if (rb == null) {
      throw new IllegalStateException("ring buffer reader " + name + " is closed");
    }
    try (Arena call = Arena.ofConfined()) {
      MemorySegment stub = Upcalls.stub(ON_SAMPLE.bindTo(new Sink(handler)), Libbpf.SAMPLE_FN, arena);
      MemorySegment state = Native.captureState(call);
      LibbpfLog.capture();
      int rc = (int) Libbpf.RING_BUFFER_ADD_E.invokeExact(state, rb, map.fd(), stub, MemorySegment.NULL);
      LibbpfLog.drain();
      Native.checkInt("add ring buffer " + map.name() + " to the reader of " + name, rc);
      rings++;
    } catch (Throwable t) {
      LibbpfLog.drain();
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Waits up to {@code timeoutMillis} for records and hands each to its map's handler; with
   * several maps, then drains all of them in the order they were added, so a record is never
   * left behind one that was committed after it in an earlier map.
   *
   * <p>When it returns, every record committed before it was called has been handed on (the
   * rings are level-triggered and drained until empty; a wait cut short by a signal drains them
   * too), which is what lets a caller say its records up to a point in time are all delivered.
   *
   * @return the number of records consumed (0 on timeout)
   */
  public int poll(int timeoutMillis) {
    if (rb == null) {
      throw new IllegalStateException("ring buffer reader " + name + " is closed");
    }
    try {
      int n = (int) Libbpf.RING_BUFFER_POLL.invokeExact(rb, timeoutMillis);
      if (n == -4) { // EINTR: a signal arrived, e.g. while the JVM shuts down; no ring was read
        return Math.max(0, (int) Libbpf.RING_BUFFER_CONSUME.invokeExact(rb));
      }
      Native.checkInt("poll ring buffer " + name, n);
      if (rings > 1) {
        // the poll drains only the rings epoll found ready; a record of a later ring may have
        // been committed before one just read from an earlier ring (a connection's last data
        // before its close): drain every ring now, in the order they were added
        int more = (int) Libbpf.RING_BUFFER_CONSUME.invokeExact(rb);
        n += Math.max(0, more);
      }
      return n;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Records whose handler threw. */
  public long handlerErrors() {
    return handlerErrors;
  }

  @Override
  public synchronized void close() {
    if (rb == null) {
      return;
    }
    try {
      Libbpf.RING_BUFFER_FREE.invokeExact(rb);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      rb = null;
      arena.close(); // only after ring_buffer__free: libbpf no longer holds the stub
    }
  }
}
