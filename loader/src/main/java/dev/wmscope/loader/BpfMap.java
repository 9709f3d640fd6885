package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A map of a loaded {@link BpfObject}, used through its file descriptor. Owned by the object
 * (no close of its own; the fd is invalid once the object is closed). Map syscalls are atomic
 * per element in the kernel, so these methods are safe to call from several threads.
 */
public final class BpfMap {
  /** Map update flags from the kernel uapi. */
  public static final long BPF_ANY = 0;

  private static final int ENOENT = 2;

  private final String name;
  private final int fd;
  private final int keySize;
  private final int valueSize;

  BpfMap(String name, int fd, int keySize, int valueSize) {
    this.name = name;
    this.fd = fd;
    this.keySize = keySize;
    this.valueSize = valueSize;
  }

  public String name() {
    return name;
  }

  public int fd() {
    return fd;
  }

  public int keySize() {
    return keySize;
  }

  public int valueSize() {
    return valueSize;
  }

  /** Looks a key up; returns false when it is absent (ENOENT), throws on any other error. */
  public boolean lookup(MemorySegment key, MemorySegment value) {
    try {
      int ret = (int) Libbpf.MAP_LOOKUP_ELEM.invokeExact(fd, key, value);
      if (ret == -ENOENT) {
        return false;
      }
      Native.checkInt("look up in map " + name, ret);
      return true;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  public void update(MemorySegment key, MemorySegment value, long flags) {
    try {
      int ret = (int) Libbpf.MAP_UPDATE_ELEM.invokeExact(fd, key, value, flags);
      Native.checkInt("update map " + name, ret);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Deletes a key; returns false when it was absent. */
  public boolean delete(MemorySegment key) {
    try {
      int ret = (int) Libbpf.MAP_DELETE_ELEM.invokeExact(fd, key);
      if (ret == -ENOENT) {
        return false;
      }
      Native.checkInt("delete from map " + name, ret);
      return true;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  // --- small typed helpers for the agent's control maps ---

  /** Sets {@code key -> value} in an array (or hash) with a 32-bit key and an 8-bit value. */
  public void setU8(int key, int value) {
    try (Arena arena = Arena.ofConfined()) {
      update(arena.allocateFrom(JAVA_INT, key), arena.allocateFrom(JAVA_BYTE, (byte) value), BPF_ANY);
    }
  }

  /** Sets {@code key -> 1} in a map with a 32-bit key and an 8-bit value. */
  public void putU32(int key) {
    try (Arena arena = Arena.ofConfined()) {
      update(arena.allocateFrom(JAVA_INT, key), arena.allocateFrom(JAVA_BYTE, (byte) 1), BPF_ANY);
    }
  }

  public boolean removeU32(int key) {
    try (Arena arena = Arena.ofConfined()) {
      return delete(arena.allocateFrom(JAVA_INT, key));
    }
  }

  /** Sum over all CPUs of a per-CPU array slot holding a u64 counter. */
  public long sumPerCpuU64(int index) {
    int cpus = PossibleCpus.count();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment values = arena.allocate(JAVA_LONG, cpus);
      if (!lookup(arena.allocateFrom(JAVA_INT, index), values)) {
        return 0;
      }
      long sum = 0;
      for (int cpu = 0; cpu < cpus; cpu++) {
        sum += values.getAtIndex(JAVA_LONG, cpu);
      }
      return sum;
    }
  }

  @Override
  public String toString() {
    return "BpfMap[" + name + ", fd=" + fd + "]";
  }
}
