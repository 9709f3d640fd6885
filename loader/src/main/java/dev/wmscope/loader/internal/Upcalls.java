package dev.wmscope.loader.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Creates upcall stubs; the arena given owns the stub's lifetime. */
public final class Upcalls {
  private Upcalls() {}

  public static MemorySegment stub(MethodHandle target, FunctionDescriptor fd, Arena arena) {
    return Linker.nativeLinker().upcallStub(target, fd, arena);
  }
}
