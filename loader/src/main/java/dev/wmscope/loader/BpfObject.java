package dev.wmscope.loader;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wmscope.loader.internal.Libbpf;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A BPF ELF object (libbpf {@code struct bpf_object}): opened from bytes in memory (never a temp
 * file), configured (map sizes) while open, then loaded into the kernel.
 *
 * <p>Ownership: the object owns its programs and maps, and every link attached through its
 * programs; {@link #close()} destroys the links in reverse order of creation, then frees the
 * object (which closes program and map fds). Close is idempotent. Not thread-safe while being
 * configured and loaded; after load, maps may be used from any thread.
 */
public final class BpfObject implements AutoCloseable {
  private static final int BTF_KIND_STRUCT = 4;
  private static final int BPF_TRACE_RAW_TP = 23; // enum bpf_attach_type

  private final String name;
  private final Arena arena = Arena.ofShared();
  private final Deque<BpfLink> links = new ArrayDeque<>();
  private MemorySegment obj;
  private boolean loaded;

  private BpfObject(String name, MemorySegment obj) {
    this.name = name;
    this.obj = obj;
  }

  /** Opens an object from a classpath resource next to {@code anchor}. */
  public static BpfObject openResource(Class<?> anchor, String resource) {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw Native.failure("open BPF object " + resource, "resource not found on the classpath",
            "the loader jar was built without the BPF object: rebuild with clang installed");
      }
      return open(resource, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Opens (parses, does not load) an ELF object held in memory. */
  public static BpfObject open(String name, byte[] elf) {
    LibbpfLog.install();
    Arena arena = Arena.ofConfined();
    try (arena) {
      LibbpfLog.capture();
      // libbpf parses the buffer during open and keeps no reference to it afterwards
      MemorySegment buf = arena.allocate(elf.length, 8);
      buf.copyFrom(MemorySegment.ofArray(elf));
      // struct bpf_object_open_opts { size_t sz; const char *object_name; ... }: only the
      // fields up to sz are read, so a two-field struct is a valid, older-ABI opts.
      MemorySegment opts = arena.allocate(MemoryLayout.structLayout(JAVA_LONG, ADDRESS));
      opts.set(JAVA_LONG, 0, opts.byteSize());
      opts.set(ADDRESS, 8, arena.allocateFrom("wmscope"));
      MemorySegment state = Native.captureState(arena);
      var obj = (MemorySegment) Libbpf.OBJECT_OPEN_MEM_E.invokeExact(state, buf, (long) elf.length, opts);
      Native.checkPtr("open BPF object " + name, obj, state);
      LibbpfLog.drain();
      return new BpfObject(name, obj);
    } catch (Throwable t) {
      LibbpfLog.drain();
      throw Libbpf.rethrow(t);
    }
  }

  public String name() {
    return name;
  }

  /** Sets a map's size; only before {@link #load()}. */
  public void setMaxEntries(String mapName, int maxEntries) {
    ensureOpen();
    if (loaded) {
      throw new IllegalStateException("set max entries of " + mapName + ": object already loaded");
    }
    try {
      Native.checkInt("set max entries of map " + mapName,
          (int) Libbpf.MAP_SET_MAX_ENTRIES.invokeExact(findMap(mapName), maxEntries));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Excludes (or re-includes) a program from {@link #load()}; only before load. */
  public void setAutoload(String programName, boolean autoload) {
    ensureOpen();
    if (loaded) {
      throw new IllegalStateException("set autoload of " + programName + ": object already loaded");
    }
    try {
      Native.checkInt("set autoload of program " + programName,
          (int) Libbpf.PROGRAM_SET_AUTOLOAD.invokeExact(findProgram(programName), autoload));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Whether the running kernel's BTF has the raw tracepoint {@code name} (e.g.
   * "sock_recv_length"), so a tp_btf program on it can load.
   */
  public static boolean kernelHasTracepoint(String name) {
    LibbpfLog.install();
    try (Arena a = Arena.ofConfined()) {
      LibbpfLog.capture();
      int id = (int) Libbpf.FIND_VMLINUX_BTF_ID.invokeExact(a.allocateFrom(name), BPF_TRACE_RAW_TP);
      return id > 0;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      LibbpfLog.drain();
    }
  }

  /** Loads every program and creates every map in the kernel. */
  public void load() {
    ensureOpen();
    try {
      LibbpfLog.capture();
      Native.checkInt("load BPF object " + name, (int) Libbpf.OBJECT_LOAD.invokeExact(obj));
      LibbpfLog.drain();
      loaded = true;
    } catch (Throwable t) {
      LibbpfLog.drain();
      throw Libbpf.rethrow(t);
    }
  }

  public BpfProgram program(String programName) {
    ensureLoaded();
    try {
      return new BpfProgram(this, programName, findProgram(programName));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  private MemorySegment findProgram(String programName) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      var prog = (MemorySegment) Libbpf.OBJECT_FIND_PROGRAM.invokeExact(obj, a.allocateFrom(programName));
      if (prog.equals(MemorySegment.NULL)) {
        throw Native.failure("find program " + programName, "not in object " + name, "");
      }
      return prog;
    }
  }

  public BpfMap map(String mapName) {
    ensureLoaded();
    try {
      MemorySegment map = findMap(mapName);
      int fd = (int) Libbpf.MAP_FD.invokeExact(map);
      int keySize = (int) Libbpf.MAP_KEY_SIZE.invokeExact(map);
      int valueSize = (int) Libbpf.MAP_VALUE_SIZE.invokeExact(map);
      return new BpfMap(mapName, Native.checkInt("get fd of map " + mapName, fd), keySize, valueSize);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Size of a map as configured (before load) or created (after). */
  public int maxEntries(String mapName) {
    ensureOpen();
    try {
      return (int) Libbpf.MAP_MAX_ENTRIES.invokeExact(findMap(mapName));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Member byte offsets of a struct as the compiler laid it out, read from the object's own BTF,
   * plus its total size under the key {@code "sizeof"}. Lets a test hold a Java layout to the C
   * header without privileges (the object need only be open).
   */
  public Map<String, Long> btfStructLayout(String structName) {
    ensureOpen();
    try (Arena a = Arena.ofConfined()) {
      var btf = (MemorySegment) Libbpf.OBJECT_BTF.invokeExact(obj);
      if (btf.equals(MemorySegment.NULL)) {
        throw Native.failure("read BTF of " + name, "object has no BTF", "compile with clang -g");
      }
      int id = (int) Libbpf.BTF_FIND_BY_NAME_KIND.invokeExact(btf, a.allocateFrom(structName), BTF_KIND_STRUCT);
      Native.checkInt("find struct " + structName + " in BTF", id);
      // struct btf_type { u32 name_off; u32 info; u32 size; } then vlen x
      // struct btf_member { u32 name_off; u32 type; u32 offset; } (offset in bits)
      var type = ((MemorySegment) Libbpf.BTF_TYPE_BY_ID.invokeExact(btf, id)).reinterpret(12);
      int info = type.get(JAVA_INT, 4);
      int vlen = info & 0xffff;
      boolean bitfields = (info >>> 31) != 0;
      var members = type.reinterpret(12 + 12L * vlen).asSlice(12);
      Map<String, Long> out = new LinkedHashMap<>();
      for (int i = 0; i < vlen; i++) {
        int nameOff = members.get(JAVA_INT, 12L * i);
        int offset = members.get(JAVA_INT, 12L * i + 8);
        long bits = bitfields ? offset & 0xffffff : offset & 0xffffffffL;
        var memberName = ((MemorySegment) Libbpf.BTF_NAME_BY_OFFSET.invokeExact(btf, nameOff)).reinterpret(256);
        out.put(memberName.getString(0), bits / 8);
      }
      out.put("sizeof", (long) type.get(JAVA_INT, 8));
      return out;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  synchronized BpfLink register(BpfLink link) {
    links.push(link);
    return link;
  }

  private MemorySegment findMap(String mapName) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      var map = (MemorySegment) Libbpf.OBJECT_FIND_MAP.invokeExact(obj, a.allocateFrom(mapName));
      if (map.equals(MemorySegment.NULL)) {
        throw Native.failure("find map " + mapName, "not in object " + name, "");
      }
      return map;
    }
  }

  private void ensureOpen() {
    if (obj == null) {
      throw new IllegalStateException("BPF object " + name + " is closed");
    }
  }

  private void ensureLoaded() {
    ensureOpen();
    if (!loaded) {
      throw new IllegalStateException("BPF object " + name + " is not loaded");
    }
  }

  /** Detaches every link (newest first) and frees the object; idempotent. */
  @Override
  public synchronized void close() {
    if (obj == null) {
      return;
    }
    RuntimeException first = null;
    while (!links.isEmpty()) {
      try {
        links.pop().close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    try {
      Libbpf.OBJECT_CLOSE.invokeExact(obj);
    } catch (Throwable t) {
      if (first == null) {
        first = Libbpf.rethrow(t);
      }
    } finally {
      obj = null;
      arena.close();
    }
    if (first != null) {
      throw first;
    }
  }
}
