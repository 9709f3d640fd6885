package dev.wmscope.loader;

/** Mirrors {@code enum wm_conn_side} in bpf/include/wmscope_conn.h. */
public enum ConnSide {
  /** Accepted by a local listener (passive open). */
  SERVER,
  /** Initiated by a local process (active open). */
  CLIENT;

  public static ConnSide of(int code) {
    return switch (code) {
      case 0 -> SERVER;
      case 1 -> CLIENT;
      default -> throw new IllegalArgumentException("unknown wm_conn_side " + code);
    };
  }
}
