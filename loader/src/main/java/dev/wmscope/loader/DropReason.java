package dev.wmscope.loader;

/** Mirrors {@code enum wm_drop_reason}: indexes of the kernel's drop_counters map. */
public enum DropReason {
  /** bpf_ringbuf_reserve failed: a record was lost. */
  RINGBUF_FULL("ringbuf_full"),
  /** A connection was not tracked: over the --max-connections budget (or, rarely, no kernel memory for its record). */
  CONN_MAP_FULL("conn_map_full"),
  /** A data record (request capture) was lost because its ring buffer was full: that stream resyncs. */
  DATA_RINGBUF_FULL("data_ringbuf_full");

  private final String label;

  DropReason(String label) {
    this.label = label;
  }

  /** Stable lower-case name for metrics and JSON. */
  public String label() {
    return label;
  }
}
