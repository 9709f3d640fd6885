package dev.wmscope.agent.telemetry;

import dev.wmscope.agent.probe.LiveState;
import dev.wmscope.loader.FeatureStatus;
import dev.wmscope.loader.KernelFeature;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The agent's own health as metrics (in {@code /metrics} and every metrics exporter): kernel
 * records handled, how late the poll loop runs its live reads, and the JVM's memory. Kernel
 * drops and export failures have their own instruments ({@code wmscope.events.dropped},
 * {@code wmscope.export.failures}).
 *
 * <p>All instruments are asynchronous: they read the agent's immutable view (and the JVM's
 * memory pools) when metrics are collected. Nothing to close: they live as long as the meter
 * provider.
 */
public final class SelfTelemetry {
  private SelfTelemetry() {}

  /** Kernel records (connection opens and closes) the poll loop handled. */
  public static final String AGENT_EVENTS = "wmscope.agent.events";
  /** How late the latest live read started behind its schedule. */
  public static final String AGENT_POLL_LAG = "wmscope.agent.poll.lag";
  /** Semantic convention: memory used, per pool. */
  public static final String JVM_MEMORY_USED = "jvm.memory.used";
  /** Semantic convention: the most memory a pool may use. */
  public static final String JVM_MEMORY_LIMIT = "jvm.memory.limit";

  static final AttributeKey<String> JVM_MEMORY_TYPE = AttributeKey.stringKey("jvm.memory.type");
  static final AttributeKey<String> JVM_MEMORY_POOL = AttributeKey.stringKey("jvm.memory.pool.name");

  /** 1 for each optional kernel feature's current state, 0 for its other states. */
  public static final String AGENT_KERNEL_FEATURE = "wmscope.agent.kernel_feature";
  /** The feature (tracked_iter, recv_attribution, ...; the README lists them). */
  static final AttributeKey<String> KERNEL_FEATURE = AttributeKey.stringKey("wmscope.kernel.feature");
  /** ok, degraded or missing. */
  static final AttributeKey<String> KERNEL_FEATURE_STATE = AttributeKey.stringKey("wmscope.kernel.feature.state");

  public static void register(MeterProvider meterProvider, Supplier<LiveState.View> view,
      Supplier<Map<KernelFeature, FeatureStatus>> features) {
    Meter meter = meterProvider.meterBuilder(ExportNames.SCOPE_NAME).build();
    // every state of every feature, so `== 1` and `absent()` alerts both work across a fleet
    Map<KernelFeature, Map<FeatureStatus.State, Attributes>> featureAttributes = new EnumMap<>(KernelFeature.class);
    for (KernelFeature f : KernelFeature.values()) {
      Map<FeatureStatus.State, Attributes> byState = new EnumMap<>(FeatureStatus.State.class);
      for (FeatureStatus.State st : FeatureStatus.State.values()) {
        byState.put(st, Attributes.of(KERNEL_FEATURE, f.id(), KERNEL_FEATURE_STATE, st.label()));
      }
      featureAttributes.put(f, byState);
    }
    meter.gaugeBuilder(AGENT_KERNEL_FEATURE)
        .setDescription("Optional kernel features by state: 1 for the state a feature is in (ok; degraded: a"
            + " fallback does its work at a cost; missing: its function is lost), 0 for the others.")
        .ofLongs()
        .buildWithCallback(m -> features.get().values().forEach(f ->
            featureAttributes.get(f.feature()).forEach((st, attrs) -> m.record(st == f.state() ? 1 : 0, attrs))));
    meter.counterBuilder(AGENT_EVENTS)
        .setDescription("Kernel connection records the agent's poll loop handled.")
        .setUnit("{event}")
        .buildWithCallback(m -> m.record(view.get().stats().agent().events()));
    meter.gaugeBuilder(AGENT_POLL_LAG)
        .setDescription("How late the latest read of live connection state started behind its schedule"
            + " (normally below the 100 ms poll slice; growing values mean the agent cannot keep up).")
        .setUnit("s")
        .buildWithCallback(m -> m.record(view.get().stats().agent().pollLagMillis() / 1000.0));
    List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
    meter.upDownCounterBuilder(JVM_MEMORY_USED)
        .setDescription("Measure of memory used.")
        .setUnit("By")
        .buildWithCallback(m -> pools.forEach(p -> {
          var usage = p.getUsage();
          if (usage != null) {
            m.record(usage.getUsed(), attributes(p));
          }
        }));
    meter.upDownCounterBuilder(JVM_MEMORY_LIMIT)
        .setDescription("Measure of max obtainable memory.")
        .setUnit("By")
        .buildWithCallback(m -> pools.forEach(p -> {
          var usage = p.getUsage();
          if (usage != null && usage.getMax() >= 0) {
            m.record(usage.getMax(), attributes(p));
          }
        }));
  }

  private static Attributes attributes(MemoryPoolMXBean p) {
    return Attributes.of(JVM_MEMORY_TYPE, p.getType() == MemoryType.HEAP ? "heap" : "non_heap",
        JVM_MEMORY_POOL, p.getName());
  }
}
