package dev.wmscope.loader;

/** Mirrors {@code enum wm_event_type} in bpf/include/wmscope_conn.h. */
public enum ConnEventType {
  /** A watched connection reached ESTABLISHED. */
  OPEN(1),
  /** It reached CLOSE; counters are final. */
  CLOSE(2);

  private final int code;

  ConnEventType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static ConnEventType of(int code) {
    return switch (code) {
      case 1 -> OPEN;
      case 2 -> CLOSE;
      default -> throw new IllegalArgumentException("unknown wm_event_type " + code);
    };
  }
}
