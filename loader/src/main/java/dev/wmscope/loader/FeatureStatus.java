package dev.wmscope.loader;

/**
 * Whether one {@link KernelFeature} is in use, and if not, why.
 *
 * @param feature the feature
 * @param state   OK, or what losing it means (see {@link KernelFeature#whenLost()})
 * @param cause   why it is not in use ("refused by the kernel: EPERM loading wmscope_iter_tracked",
 *                "turned off by WMSCOPE_DISABLE_FEATURES"); empty when OK
 */
public record FeatureStatus(KernelFeature feature, State state, String cause) {
  /** ok: in use; degraded: a fallback does its job at a cost; missing: its function is gone. */
  public enum State {
    OK,
    DEGRADED,
    MISSING;

    /** Lower-case name, as in JSON, metrics and logs. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static FeatureStatus ok(KernelFeature f) {
    return new FeatureStatus(f, State.OK, "");
  }

  public static FeatureStatus lost(KernelFeature f, String cause) {
    return new FeatureStatus(f, f.whenLost(), cause);
  }

  public boolean ok() {
    return state == State.OK;
  }

  /** One log or check line: "tracked_iter degraded (cause): consequence". */
  public String describe() {
    return ok() ? feature.id() + " ok"
        : feature.id() + " " + state.label() + " (" + cause + "): " + feature.consequence();
  }
}
