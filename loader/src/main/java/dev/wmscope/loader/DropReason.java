package dev.wmscope.loader;

/** Mirrors {@code enum wm_drop_reason}: indexes of the kernel's drop_counters map. */
public enum DropReason {
  /** bpf_ringbuf_reserve failed: a record was lost. */
  RINGBUF_FULL("ringbuf_full"),
  /** A connection could not be tracked: the live_conns map was full (or, rarely, no memory for its socket mark). */
  CONN_MAP_FULL("conn_map_full");

  private final String label;

  DropReason(String label) {
    this.label = label;
  }

  /** Stable lower-case name for metrics and JSON. */
  public String label() {
    return label;
  }
}
