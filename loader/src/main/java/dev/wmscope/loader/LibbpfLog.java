package dev.wmscope.loader;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Routes libbpf's print callback into Java. libbpf prints on the thread that made the call, so
 * lines are captured per thread: {@link #capture()} starts a capture and {@link #drain()} returns
 * what was printed, which {@link BpfException} carries (the verifier log of a failed load).
 * Debug lines go to the logger only when {@code -Dwmscope.libbpf.debug=true}.
 */
final class LibbpfLog {
  private static final System.Logger LOG = System.getLogger("dev.wmscope.libbpf");
  private static final int LIBBPF_WARN = 0;
  private static final int LIBBPF_DEBUG = 2;
  private static final int MAX_CAPTURED = 400;
  private static final boolean DEBUG = Boolean.getBoolean("wmscope.libbpf.debug");
  private static final ThreadLocal<List<String>> CAPTURED = new ThreadLocal<>();

  static {
    try {
      var target = MethodHandles.lookup().findStatic(LibbpfLog.class, "print",
          MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
      // The process-wide hook lives as long as the process: the global arena is the right owner.
      MemorySegment stub = dev.wmscope.loader.internal.Upcalls.stub(target, Libbpf.PRINT_FN, Arena.global());
      var unused = (MemorySegment) Libbpf.SET_PRINT.invokeExact(stub);
    } catch (Throwable t) {
      throw new ExceptionInInitializerError(t);
    }
  }

  private LibbpfLog() {}

  /** Ensures the hook is installed (class initialisation does it once). */
  static void install() {}

  static void capture() {
    CAPTURED.set(new ArrayList<>());
  }

  static List<String> drain() {
    List<String> lines = CAPTURED.get();
    CAPTURED.remove();
    return lines == null ? List.of() : lines;
  }

  /** Upcall from libbpf. Never throws: an exception escaping an upcall would kill the JVM. */
  @SuppressWarnings("unused")
  private static int print(int level, MemorySegment format, MemorySegment args) {
    try {
      if (level == LIBBPF_DEBUG && !DEBUG && CAPTURED.get() == null) {
        return 0;
      }
      String line;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment buf = arena.allocate(2048);
        int n = (int) Libbpf.VSNPRINTF.invokeExact(buf, 2048L, format, args);
        line = n < 0 ? "" : buf.getString(0).stripTrailing();
      }
      List<String> captured = CAPTURED.get();
      if (captured != null && captured.size() < MAX_CAPTURED) {
        captured.add(line);
      }
      if (level == LIBBPF_WARN) {
        LOG.log(System.Logger.Level.DEBUG, "libbpf: {0}", line);
      } else if (DEBUG) {
        LOG.log(System.Logger.Level.DEBUG, "libbpf: {0}", line);
      }
    } catch (Throwable ignored) {
      // a lost log line is better than a crashed process
    }
    return 0;
  }
}
