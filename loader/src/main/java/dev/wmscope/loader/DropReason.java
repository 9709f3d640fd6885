package dev.wmscope.loader;

/** Why events were lost: {@code enum wm_drop_reason} (indexes of the kernel's drop_counters map), and skipped program runs. */
public enum DropReason {
  /** bpf_ringbuf_reserve failed: a record was lost. */
  RINGBUF_FULL("ringbuf_full"),
  /** A connection was not tracked: over the --max-connections budget (or, rarely, no kernel memory for its record). */
  CONN_MAP_FULL("conn_map_full"),
  /** A data record (request capture) was lost because its ring buffer was full: that stream resyncs. */
  DATA_RINGBUF_FULL("data_ringbuf_full"),
  /**
   * A tracing program's run the kernel skipped because it was already running on that CPU (not a
   * kernel counter of ours: the programs' recursion misses). The connections sock_ops tracked
   * are closed by sock_ops too, so such a miss loses a close record only of an adopted one; it
   * can also lose a reset mark or a request capture record (that stream resyncs).
   */
  PROGRAM_SKIPPED("program_skipped");

  /** The reasons the kernel's drop_counters map counts (indexed by ordinal). */
  public boolean kernelCounter() {
    return this != PROGRAM_SKIPPED;
  }

  private final String label;

  DropReason(String label) {
    this.label = label;
  }

  /** Stable lower-case name for metrics and JSON. */
  public String label() {
    return label;
  }
}
