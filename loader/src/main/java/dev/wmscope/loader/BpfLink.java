package dev.wmscope.loader;

import dev.wmscope.loader.internal.Libbpf;
import java.lang.foreign.MemorySegment;

/**
 * An attached program (a kernel bpf_link). Closing destroys the link, which detaches the
 * program; a link also dies with the process that holds it, so a SIGKILLed agent leaves
 * nothing attached. Close is idempotent and thread-safe.
 */
public final class BpfLink implements AutoCloseable {
  private final String description;
  private MemorySegment link;

  BpfLink(String description, MemorySegment link) {
    this.description = description;
    this.link = link;
  }

  public String description() {
    return description;
  }

  /** The link's file descriptor (an iterator is created from it). */
  synchronized int fd() {
    if (link == null) {
      throw new IllegalStateException("link " + description + " is closed");
    }
    try {
      return (int) Libbpf.LINK_FD.invokeExact(link);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  public synchronized boolean isOpen() {
    return link != null;
  }

  @Override
  public synchronized void close() {
    if (link == null) {
      return;
    }
    try {
      int unused = (int) Libbpf.LINK_DESTROY.invokeExact(link);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      link = null;
    }
  }

  @Override
  public String toString() {
    return "BpfLink[" + description + "]";
  }
}
