package dev.wmscope.agent.telemetry;

import dev.wmscope.agent.probe.LiveState;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
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

  public static void register(MeterProvider meterProvider, Supplier<LiveState.View> view) {
    Meter meter = meterProvider.meterBuilder(ExportNames.SCOPE_NAME).build();
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
