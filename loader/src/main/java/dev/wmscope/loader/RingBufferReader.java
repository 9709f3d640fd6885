package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads BPF ring buffer maps straight from their memory: each map is mapped into this process
 * (its consumer page read-write, its producer page and data read-only, as the kernel offers them)
 * and an epoll set waits on all of them ({@link #add}). The records are read in Java with the
 * kernel's ring protocol (what libbpf's ring_buffer__consume does), so a record costs a few loads
 * and a handler call, not a native-to-Java upcall.
 *
 * <p>The handler runs on the polling thread, once per record, with a segment that is only
 * valid during the call (the producer reuses the space once it returns): it must copy what it
 * needs and must not block. Exceptions thrown by the handler are counted
 * ({@link #handlerErrors()}) and the record is skipped.
 *
 * <p>Threading: {@link #poll} must be called from one thread at a time; {@link #close()} must
 * not run concurrently with a poll (the owner stops its poll loop first). Closing unmaps the
 * rings; it is idempotent.
 */
public final class RingBufferReader implements AutoCloseable {
  /** The kernel's record header (struct bpf_ringbuf_hdr): u32 len (with the two bits), u32 pg_off. */
  private static final int HEADER = 8;
  private static final int BUSY = 1 << 31;
  private static final int DISCARD = 1 << 30;
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final long PAGE = pageSize();
  /** struct bpf_map_info: max_entries at offset 16 (type, id, key_size, value_size before it). */
  private static final long MAP_INFO_SIZE = 80;
  private static final long MAP_INFO_MAX_ENTRIES = 16;

  /** One mapped ring and its handler. */
  private static final class Ring {
    final String name;
    final Consumer<MemorySegment> handler;
    final MemorySegment consumerPage;
    final MemorySegment producerArea;
    /** The data pages, mapped twice in a row: a record that wraps is still contiguous. */
    final MemorySegment data;
    final long mask;
    /** How far a drain reads before it releases what it read (see {@link #RELEASE_EVERY_BYTES}). */
    final long releaseEvery;

    Ring(String name, Consumer<MemorySegment> handler, MemorySegment consumerPage, MemorySegment producerArea,
        long size) {
      this.name = name;
      this.handler = handler;
      this.consumerPage = consumerPage;
      this.producerArea = producerArea;
      this.data = producerArea.asSlice(PAGE, 2 * size);
      this.mask = size - 1;
      this.releaseEvery = Math.min(RELEASE_EVERY_BYTES, size / 4);
    }
  }

  private final String name;
  private final Arena arena = Arena.ofShared();
  private final List<Ring> rings = new ArrayList<>();
  private final MemorySegment captureState = Native.captureState(arena);
  private MemorySegment events;
  private int epollFd = -1;
  private long handlerErrors;

  public RingBufferReader(BpfMap map, Consumer<MemorySegment> handler) {
    this.name = map.name();
    try {
      int fd = (int) Libbpf.EPOLL_CREATE1_E.invokeExact(captureState, Libbpf.EPOLL_CLOEXEC);
      if (fd < 0) {
        throw failed("create an epoll set for ring buffer " + name);
      }
      epollFd = fd;
      add(map, handler);
    } catch (Throwable t) {
      close();
      throw Libbpf.rethrow(t);
    }
  }

  /** Reads one more ring buffer map in the same poll, with its own handler. */
  public void add(BpfMap map, Consumer<MemorySegment> handler) {
    if (epollFd < 0) {
      throw new IllegalStateException("ring buffer reader " + name + " is closed");
    }
    long size = maxEntries(map);
    MemorySegment consumer = map(map, PAGE, Libbpf.PROT_READ | Libbpf.PROT_WRITE, 0, "its consumer page");
    MemorySegment producer;
    try {
      producer = map(map, PAGE + 2 * size, Libbpf.PROT_READ, PAGE, "its data");
    } catch (RuntimeException e) {
      unmap(consumer);
      throw e;
    }
    Ring ring = new Ring(map.name(), handler, consumer, producer, size);
    try {
      MemorySegment event = arena.allocate(Libbpf.EPOLL_EVENT_SIZE, 4);
      event.set(JAVA_INT, 0, Libbpf.EPOLLIN);
      int rc = (int) Libbpf.EPOLL_CTL_E.invokeExact(captureState, epollFd, Libbpf.EPOLL_CTL_ADD, map.fd(), event);
      if (rc < 0) {
        throw failed("wait on ring buffer " + map.name());
      }
    } catch (Throwable t) {
      unmap(ring.consumerPage);
      unmap(ring.producerArea);
      throw Libbpf.rethrow(t);
    }
    rings.add(ring);
    events = arena.allocate(Libbpf.EPOLL_EVENT_SIZE * rings.size(), 8);
  }

  /**
   * Waits up to {@code timeoutMillis} for records (0: not at all), then drains every ring in the
   * order they were added, so a record is never left behind one that was committed after it in
   * an earlier map.
   *
   * <p>When it returns, every record committed before it was called has been handed on (a
   * record still being written, reserved before and committed after, waits for the next poll),
   * which is what lets a caller say its records up to a point in time are all delivered.
   *
   * @return the number of records consumed (0 on timeout)
   */
  public int poll(int timeoutMillis) {
    if (epollFd < 0) {
      throw new IllegalStateException("ring buffer reader " + name + " is closed");
    }
    if (timeoutMillis != 0) {
      try {
        int n = (int) Libbpf.EPOLL_WAIT_E.invokeExact(captureState, epollFd, events, rings.size(), timeoutMillis);
        if (n < 0 && Libbpf.errno(captureState) != Libbpf.EINTR) { // EINTR: a signal; drain anyway
          throw failed("poll ring buffer " + name);
        }
      } catch (Throwable t) {
        throw Libbpf.rethrow(t);
      }
    }
    int consumed = 0;
    for (int i = 0; i < rings.size(); i++) {
      consumed += drain(rings.get(i));
    }
    return consumed;
  }

  /**
   * The kernel's ring protocol: records from the consumer position up to the producer position
   * (read with acquire), each header's length read with acquire; a busy record (reserved, not yet
   * committed) ends the pass; a discarded one is skipped. The consumer position is released every
   * {@link #RELEASE_EVERY_BYTES} and before the producer position is read again, not after every
   * record: each store moves the consumer page's cache line away from the CPUs where the
   * kernel reserves and commits records, which read it every time. Released before the last read
   * of the producer position, so a record committed after it finds the ring empty and wakes us.
   */
  private int drain(Ring r) {
    int consumed = 0;
    long cons = (long) LONG.getAcquire(r.consumerPage, 0L);
    long released = cons;
    boolean more;
    do {
      more = false;
      long prod = (long) LONG.getAcquire(r.producerArea, 0L);
      while (cons < prod) {
        long at = cons & r.mask;
        int len = (int) INT.getAcquire(r.data, at);
        if ((len & BUSY) != 0) {
          break; // committed later: the next drain (the kernel wakes us when the ring was empty)
        }
        more = true;
        int size = len & ~(BUSY | DISCARD);
        cons += (HEADER + size + 7) & ~7L;
        if ((len & DISCARD) == 0) {
          try {
            r.handler.accept(r.data.asSlice(at + HEADER, size));
          } catch (Throwable t) {
            handlerErrors++;
          }
          consumed++;
        }
        if (cons - released >= r.releaseEvery) {
          LONG.setRelease(r.consumerPage, 0L, cons);
          released = cons;
        }
      }
      if (cons != released) {
        LONG.setRelease(r.consumerPage, 0L, cons);
        released = cons;
      }
      if (cons < prod) {
        return consumed; // a busy record
      }
    } while (more);
    return consumed;
  }

  /**
   * How much of the ring a drain may read before it releases it (that space stays the reader's
   * meanwhile); a quarter of a smaller ring.
   */
  static final long RELEASE_EVERY_BYTES = 64 * 1024;

  /** Records whose handler threw. */
  public long handlerErrors() {
    return handlerErrors;
  }

  @Override
  public synchronized void close() {
    if (epollFd < 0 && rings.isEmpty()) {
      return;
    }
    for (Ring r : rings) {
      unmap(r.consumerPage);
      unmap(r.producerArea);
    }
    rings.clear();
    if (epollFd >= 0) {
      try {
        int unused = (int) Libbpf.CLOSE.invokeExact(epollFd);
      } catch (Throwable t) {
        throw Libbpf.rethrow(t);
      }
      epollFd = -1;
    }
    arena.close();
  }

  private MemorySegment map(BpfMap map, long length, int prot, long offset, String what) {
    try {
      var at = (MemorySegment) Libbpf.MMAP_E.invokeExact(captureState, MemorySegment.NULL, length, prot,
          Libbpf.MAP_SHARED, map.fd(), offset);
      if (at.address() == -1L) { // MAP_FAILED
        throw failed("map ring buffer " + map.name() + " (" + what + ")");
      }
      return at.reinterpret(length);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  private static void unmap(MemorySegment s) {
    try {
      int unused = (int) Libbpf.MUNMAP.invokeExact(s, s.byteSize());
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** The ring's data size as the kernel made it (a power of two pages). */
  private static long maxEntries(BpfMap map) {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment info = Native.objectInfo(call, map.fd(), MAP_INFO_SIZE);
      if (info == null || info.byteSize() < MAP_INFO_MAX_ENTRIES + 4) {
        throw Native.failure("read ring buffer " + map.name(), "the kernel did not describe the map",
            "a ring buffer of a loaded object is described by bpf_obj_get_info_by_fd");
      }
      long size = Integer.toUnsignedLong(info.get(JAVA_INT, MAP_INFO_MAX_ENTRIES));
      if (size == 0 || Long.bitCount(size) != 1 || size % PAGE != 0) {
        throw Native.failure("read ring buffer " + map.name(), "the kernel reports a size of " + size + " bytes",
            "a ring buffer's size is a power-of-two number of pages");
      }
      return size;
    }
  }

  private BpfException failed(String operation) {
    int errno = Libbpf.errno(captureState);
    return BpfException.fromErrno(operation, errno, Libbpf.strerror(errno), List.of());
  }

  private static long pageSize() {
    try {
      long page = (long) Libbpf.SYSCONF.invokeExact(Libbpf.SC_PAGESIZE);
      return page > 0 ? page : 4096;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
