package dev.wmscope.loader.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wmscope.loader.BpfException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Raw downcall handles for exactly the libbpf (and libc) functions wmscope uses, resolved once.
 * Nothing outside the loader module may use this class: the public types in
 * {@code dev.wmscope.loader} own every native object and normalise errors.
 *
 * <p>Convention: handles named {@code *_E} take a leading capture-state segment (errno is
 * captured right after the call, before the JVM can clobber it); {@link #call} wraps that.
 * libbpf 1.x returns {@code -errno} from int functions and NULL plus errno from pointer ones.
 */
public final class Libbpf {
  private Libbpf() {}

  private static final Linker LINKER = Linker.nativeLinker();
  private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
  public static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO_HANDLE =
      CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  /** libbpf, by its versioned soname so a dev-package symlink is never needed. */
  private static final SymbolLookup LIBBPF = loadLibbpf();

  private static final SymbolLookup LIBC = LINKER.defaultLookup();

  private static SymbolLookup loadLibbpf() {
    try {
      return SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
    } catch (IllegalArgumentException e) {
      throw new BpfException(
          "load libbpf.so.1",
          0,
          "the shared library is not installed",
          "install it: apt-get install libbpf1 (Debian/Ubuntu) or dnf install libbpf (Fedora/RHEL)",
          java.util.List.of(),
          e);
    }
  }

  private static MethodHandle bpf(String name, FunctionDescriptor fd, boolean errno) {
    var addr =
        LIBBPF.find(name).orElseThrow(() -> new BpfException("resolve libbpf symbol " + name, 0,
            "symbol not found", "wmscope needs libbpf >= 1.0", java.util.List.of(), null));
    return errno ? LINKER.downcallHandle(addr, fd, ERRNO) : LINKER.downcallHandle(addr, fd);
  }

  private static MethodHandle libc(String name, FunctionDescriptor fd, boolean errno) {
    var addr = LIBC.find(name).orElseThrow();
    return errno ? LINKER.downcallHandle(addr, fd, ERRNO) : LINKER.downcallHandle(addr, fd);
  }

  // --- object lifecycle ---
  public static final MethodHandle OBJECT_OPEN_MEM_E =
      bpf("bpf_object__open_mem", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), true);
  public static final MethodHandle OBJECT_LOAD =
      bpf("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
  public static final MethodHandle OBJECT_CLOSE =
      bpf("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS), false);
  public static final MethodHandle OBJECT_FIND_PROGRAM =
      bpf("bpf_object__find_program_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false);
  public static final MethodHandle OBJECT_FIND_MAP =
      bpf("bpf_object__find_map_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), false);
  public static final MethodHandle OBJECT_BTF =
      bpf("bpf_object__btf", FunctionDescriptor.of(ADDRESS, ADDRESS), false);

  // --- maps (object level) ---
  public static final MethodHandle MAP_FD = bpf("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
  public static final MethodHandle MAP_SET_MAX_ENTRIES =
      bpf("bpf_map__set_max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false);
  public static final MethodHandle MAP_MAX_ENTRIES =
      bpf("bpf_map__max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
  public static final MethodHandle MAP_KEY_SIZE =
      bpf("bpf_map__key_size", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
  public static final MethodHandle MAP_VALUE_SIZE =
      bpf("bpf_map__value_size", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);

  // --- maps (fd level, syscall wrappers) ---
  public static final MethodHandle MAP_LOOKUP_ELEM =
      bpf("bpf_map_lookup_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), false);
  public static final MethodHandle MAP_UPDATE_ELEM =
      bpf("bpf_map_update_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), false);
  public static final MethodHandle MAP_DELETE_ELEM =
      bpf("bpf_map_delete_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), false);

  // --- programs and links ---
  public static final MethodHandle PROGRAM_ATTACH_CGROUP_E =
      bpf("bpf_program__attach_cgroup", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), true);
  public static final MethodHandle PROGRAM_ATTACH_E =
      bpf("bpf_program__attach", FunctionDescriptor.of(ADDRESS, ADDRESS), true);
  public static final MethodHandle PROGRAM_SET_AUTOLOAD =
      bpf("bpf_program__set_autoload", FunctionDescriptor.of(JAVA_INT, ADDRESS, ValueLayout.JAVA_BOOLEAN), false);
  public static final MethodHandle FIND_VMLINUX_BTF_ID =
      bpf("libbpf_find_vmlinux_btf_id", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false);
  public static final MethodHandle PROGRAM_ATTACH_ITER_E =
      bpf("bpf_program__attach_iter", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), true);
  public static final MethodHandle LINK_FD = bpf("bpf_link__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
  public static final MethodHandle ITER_CREATE = bpf("bpf_iter_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
  public static final MethodHandle PROGRAM_FD =
      bpf("bpf_program__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);
  public static final MethodHandle LINK_DESTROY =
      bpf("bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), false);

  // --- ring buffer (read by our own consumer: RingBufferReader) ---
  public static final MethodHandle MMAP_E = libc("mmap",
      FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), true);
  public static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), false);
  public static final MethodHandle EPOLL_CREATE1_E = libc("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), true);
  public static final MethodHandle EPOLL_CTL_E =
      libc("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), true);
  public static final MethodHandle EPOLL_WAIT_E =
      libc("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), true);
  public static final MethodHandle SYSCONF = libc("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT), false);
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int MAP_SHARED = 1;
  public static final int EPOLL_CLOEXEC = 02000000;
  public static final int EPOLL_CTL_ADD = 1;
  public static final int EPOLLIN = 1;
  /** struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
  public static final long EPOLL_EVENT_SIZE = System.getProperty("os.arch").matches("amd64|x86_64") ? 12 : 16;
  public static final int SC_PAGESIZE = 30;
  public static final int EINTR = 4;

  // --- introspection (leak checks, `wmscope check`) ---
  public static final MethodHandle PROG_GET_NEXT_ID =
      bpf("bpf_prog_get_next_id", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), false);
  public static final MethodHandle LINK_GET_NEXT_ID =
      bpf("bpf_link_get_next_id", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), false);
  public static final MethodHandle PROG_GET_FD_BY_ID =
      bpf("bpf_prog_get_fd_by_id", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
  public static final MethodHandle LINK_GET_FD_BY_ID =
      bpf("bpf_link_get_fd_by_id", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
  public static final MethodHandle OBJ_GET_INFO_BY_FD =
      bpf("bpf_obj_get_info_by_fd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), false);

  // --- BTF of our own object (layout check) ---
  public static final MethodHandle BTF_FIND_BY_NAME_KIND =
      bpf("btf__find_by_name_kind", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), false);
  public static final MethodHandle BTF_TYPE_BY_ID =
      bpf("btf__type_by_id", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), false);
  public static final MethodHandle BTF_NAME_BY_OFFSET =
      bpf("btf__name_by_offset", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), false);

  // --- logging ---
  public static final FunctionDescriptor PRINT_FN = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
  public static final MethodHandle SET_PRINT = bpf("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS), false);

  // --- libc ---
  public static final MethodHandle OPEN_E = libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), true);
  public static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
  public static final MethodHandle READ_E =
      libc("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), true);
  public static final MethodHandle STRERROR = libc("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT), false);
  /** x86_64/SysV: a va_list parameter decays to a pointer, so it crosses as an address. */
  public static final MethodHandle VSNPRINTF =
      libc("vsnprintf", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS), false);
  public static final MethodHandle CLOCK_GETTIME =
      libc("clock_gettime", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), false);
  public static final MethodHandle GETEUID = libc("geteuid", FunctionDescriptor.of(JAVA_INT), false);
  /** syscall(2) with two arguments (variadic after the number), for calls glibc may lack (pidfd_open). */
  public static final MethodHandle SYSCALL2_E = LINKER.downcallHandle(LIBC.find("syscall").orElseThrow(),
      FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1), ERRNO);
  /** pidfd_open(2): the same number on every architecture (new syscalls are numbered alike since 5.1). */
  public static final long SYS_PIDFD_OPEN = 434;

  public static final int O_RDONLY = 0;
  public static final int O_DIRECTORY = 0200000;
  public static final int O_CLOEXEC = 02000000;
  public static final int CLOCK_MONOTONIC = 1;

  /** Reads errno out of a capture-state segment filled by an {@code *_E} handle. */
  public static int errno(MemorySegment captureState) {
    return (int) ERRNO_HANDLE.get(captureState, 0L);
  }

  /** Text for an errno from the C library, e.g. "Operation not permitted". */
  public static String strerror(int errno) {
    try {
      var s = (MemorySegment) STRERROR.invokeExact(errno);
      return s.equals(MemorySegment.NULL) ? "errno " + errno : s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  /** Rethrows what a downcall threw: errors as they are, anything else wrapped. */
  public static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }
}
