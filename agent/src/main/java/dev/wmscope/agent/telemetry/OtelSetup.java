package dev.wmscope.agent.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.resources.ResourceBuilder;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.semconv.ServiceAttributes;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Builds the OpenTelemetry SDK with the SDK's autoconfigure, so every standard OTEL_* variable
 * (and -Dotel.* property) works as documented upstream. wmscope adds:
 *
 * <ul>
 *   <li>Precedence: wmscope's flags (the {@code overrides} map) &gt; system properties &gt;
 *       environment (OTEL_*, and WMSCOPE_* for wmscope's own properties) &gt; wmscope's
 *       defaults.</li>
 *   <li>Exporter defaults: OTLP over http/protobuf (the specification's default; the Java
 *       SDK's own is grpc). Without an OTLP endpoint, traces and metrics exporters default to
 *       none (no stream of failed exports on a host without a collector); an explicit
 *       OTEL_*_EXPORTER always wins. {@code prometheus} in OTEL_METRICS_EXPORTER is served by the
 *       agent's own HTTP server, never by a second one.</li>
 *   <li>Resource: {@code service.name} from {@code wmscope.service.name} (flag or
 *       WMSCOPE_SERVICE_NAME), else OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, else the
 *       discovered app ({@link ServiceNames}); {@code host.name} and
 *       {@code service.instance.id} (a random UUID per agent run) unless already set or
 *       disabled with OTEL_RESOURCE_DISABLED_KEYS.</li>
 *   <li>Sampling: the configured sampler (OTEL_TRACES_SAMPLER, default always on) wrapped in
 *       {@link ConnectionSampler}, so errors and slow connections are always kept.</li>
 *   <li>A {@link PrometheusMetricReader} next to any OTLP reader, for {@code /metrics}.</li>
 *   <li>{@link ExportHealth} around every exporter: one warning per outage, self-metrics.</li>
 * </ul>
 */
public final class OtelSetup {
  private static final System.Logger LOG = System.getLogger(OtelSetup.class.getName());

  static final AttributeKey<String> HOST_NAME = AttributeKey.stringKey("host.name");
  static final AttributeKey<String> SERVICE_INSTANCE_ID = AttributeKey.stringKey("service.instance.id");

  /**
   * The OTLP/HTTP sender: the JDK's HttpClient. okhttp is on the class path too (it is the only
   * OTLP/gRPC sender), and without a choice the SDK warns and picks either.
   */
  static final String HTTP_SENDER_PROPERTY = "io.opentelemetry.sdk.common.export.HttpSenderProvider";
  static final String JDK_HTTP_SENDER = "io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider";

  private OtelSetup() {}

  /**
   * @param overrides          settings from wmscope's flags (otel.* and wmscope.* property
   *                           names), applied over everything else
   * @param defaultServiceName service.name when nothing sets one (the discovered app)
   * @param prometheus         whether to register the Prometheus pull reader
   * @throws io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException for invalid settings
   */
  public static Telemetry build(Map<String, String> overrides, String defaultServiceName, boolean prometheus) {
    if (System.getProperty(HTTP_SENDER_PROPERTY) == null
        && System.getenv(HTTP_SENDER_PROPERTY.toUpperCase(Locale.ROOT).replace('.', '_')) == null) {
      System.setProperty(HTTP_SENDER_PROPERTY, JDK_HTTP_SENDER);
    }
    ExportHealth.quietPerBatchFailureLogs();
    ExportHealth health = new ExportHealth();
    PrometheusMetricReader reader = prometheus ? PrometheusMetricReader.builder().build() : null;
    LateMetricProducers late = new LateMetricProducers();
    String instanceId = UUID.randomUUID().toString();
    AtomicReference<Resource> resource = new AtomicReference<>();
    AtomicReference<ConfigProperties> finalConfig = new AtomicReference<>();

    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> Map.of(
            "otel.logs.exporter", "none", // worker health's events as log records only when asked for
            // the specification's default; the Java SDK alone still defaults to grpc
            "otel.exporter.otlp.protocol", "http/protobuf"))
        .addPropertiesCustomizer(config -> overrides)
        .addPropertiesCustomizer(OtelSetup::exportDefaults)
        .addPropertiesCustomizer(OtelSetup::requirePositive)
        .addResourceCustomizer((r, config) -> {
          finalConfig.set(config);
          Resource built = resource(r, config, defaultServiceName, instanceId, OtelSetup::hostName);
          resource.set(built);
          return built;
        })
        .addSamplerCustomizer((sampler, config) -> new ConnectionSampler(sampler,
            config.getDuration(ExportNames.PROP_SLOW_THRESHOLD, ConnectionSampler.DEFAULT_SLOW_THRESHOLD)))
        .addTracerProviderCustomizer((builder, config) -> builder.setIdGenerator(new ConnectionIdGenerator()))
        .addSpanExporterCustomizer((e, config) -> health.wrap(e, exporterName(e), endpoint(e, config)))
        .addMetricExporterCustomizer((e, config) -> health.wrap(e, exporterName(e), endpoint(e, config)))
        .addMeterProviderCustomizer((builder, config) -> reader == null ? builder : builder.registerMetricReader(reader))
        .addMeterProviderCustomizer((builder, config) -> builder.registerMetricProducer(late))
        .disableShutdownHook() // the agent shuts the SDK down itself, after the probe stops
        .build()
        .getOpenTelemetrySdk();
    health.registerMetrics(sdk.getMeterProvider());
    ConfigProperties c = finalConfig.get();
    if (c != null) {
      LOG.log(System.Logger.Level.INFO, "OpenTelemetry: service.name={0}, traces -> {1}, metrics -> {2}{3}",
          resource.get().getAttribute(ServiceAttributes.SERVICE_NAME), c.getList("otel.traces.exporter"),
          c.getList("otel.metrics.exporter"), reader == null ? "" : " + Prometheus /metrics");
    }
    boolean spans = c == null || c.getList("otel.traces.exporter").stream().anyMatch(e -> !e.equals("none"));
    return new Telemetry(sdk, Optional.ofNullable(reader), health, resource.get(), spans, late);
  }

  /** Settings the SDK accepts below 1 and then fails on at every export, or never exports with. */
  static final List<String> POSITIVE_DURATIONS = List.of("otel.exporter.otlp.timeout",
      "otel.exporter.otlp.traces.timeout", "otel.exporter.otlp.metrics.timeout", "otel.exporter.zipkin.timeout",
      "otel.bsp.schedule.delay", "otel.bsp.export.timeout", "otel.metric.export.interval",
      "otel.metric.export.timeout");
  static final List<String> POSITIVE_INTEGERS = List.of("otel.bsp.max.queue.size", "otel.bsp.max.export.batch.size");

  /**
   * Fails the start (exit 2, naming the setting) on a timeout, delay, interval or size that is
   * zero or negative, instead of an agent that fails every export afterwards.
   */
  static Map<String, String> requirePositive(ConfigProperties c) {
    for (String key : POSITIVE_DURATIONS) {
      java.time.Duration d = c.getDuration(key); // unparsable: autoconfigure's own error
      if (d != null && (d.isNegative() || d.isZero())) {
        throw new ConfigurationException("invalid " + key + " (" + envName(key) + "): " + c.getString(key)
            + ": must be positive, e.g. 10s");
      }
    }
    for (String key : POSITIVE_INTEGERS) {
      Integer n = c.getInt(key);
      if (n != null && n <= 0) {
        throw new ConfigurationException("invalid " + key + " (" + envName(key) + "): " + n + ": must be positive");
      }
    }
    return Map.of();
  }

  /** otel.bsp.schedule.delay is OTEL_BSP_SCHEDULE_DELAY. */
  static String envName(String property) {
    return property.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
  }

  /** Defaults that depend on what is configured: exporters by the presence of an endpoint. */
  static Map<String, String> exportDefaults(ConfigProperties c) {
    Map<String, String> d = new HashMap<>();
    boolean endpoint = set(c, "otel.exporter.otlp.endpoint") || set(c, "otel.exporter.otlp.traces.endpoint")
        || set(c, "otel.exporter.otlp.metrics.endpoint");
    if (!set(c, "otel.traces.exporter")) {
      d.put("otel.traces.exporter", endpoint ? "otlp" : "none");
    }
    if (!set(c, "otel.metrics.exporter")) {
      d.put("otel.metrics.exporter", endpoint ? "otlp" : "none");
    } else {
      List<String> metrics = new ArrayList<>(c.getList("otel.metrics.exporter"));
      if (metrics.removeIf(e -> e.equals("prometheus"))) {
        // the SDK's own Prometheus reader would start a second server on the same port
        d.put("otel.metrics.exporter", metrics.isEmpty() ? "none" : String.join(",", metrics));
      }
    }
    return d;
  }

  private static boolean set(ConfigProperties c, String key) {
    String v = c.getString(key);
    return v != null && !v.isBlank();
  }

  /** The resource with wmscope's service.name rule, host.name and service.instance.id. */
  static Resource resource(Resource configured, ConfigProperties config, String defaultServiceName,
      String instanceId, java.util.function.Supplier<Optional<String>> hostName) {
    ResourceBuilder b = configured.toBuilder();
    Set<String> disabled = new HashSet<>(config.getList("otel.resource.disabled.keys"));
    String wmscopeName = config.getString(ExportNames.PROP_SERVICE_NAME);
    String current = configured.getAttribute(ServiceAttributes.SERVICE_NAME);
    if (wmscopeName != null && !wmscopeName.isBlank()) {
      b.put(ServiceAttributes.SERVICE_NAME, wmscopeName.strip());
    } else if (current == null || current.startsWith("unknown_service")) {
      b.put(ServiceAttributes.SERVICE_NAME, defaultServiceName);
    }
    if (configured.getAttribute(HOST_NAME) == null && !disabled.contains(HOST_NAME.getKey())) {
      hostName.get().ifPresent(h -> b.put(HOST_NAME, h));
    }
    if (configured.getAttribute(SERVICE_INSTANCE_ID) == null && !disabled.contains(SERVICE_INSTANCE_ID.getKey())) {
      b.put(SERVICE_INSTANCE_ID, instanceId);
    }
    return b.build();
  }

  /** The kernel's host name (as `hostname` prints it), without a DNS lookup. */
  static Optional<String> hostName() {
    try {
      String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).strip();
      if (!h.isEmpty()) {
        return Optional.of(h);
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or /proc not mounted: fall back to the JDK
    }
    try {
      return Optional.of(InetAddress.getLocalHost().getHostName());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The name an exporter has in OTEL_*_EXPORTER. */
  static String exporterName(Object exporter) {
    String cls = exporter.getClass().getSimpleName();
    if (cls.startsWith("Otlp")) {
      return "otlp";
    }
    if (cls.startsWith("Zipkin")) {
      return "zipkin";
    }
    if (cls.startsWith("Logging")) {
      return "console";
    }
    return cls.toLowerCase(Locale.ROOT);
  }

  /** Where an exporter sends, as configured (for messages only). */
  static String endpoint(Object exporter, ConfigProperties c) {
    String signal = exporter instanceof SpanExporter ? "traces" : exporter instanceof MetricExporter ? "metrics" : "";
    return switch (exporterName(exporter)) {
      case "otlp" -> {
        String specific = c.getString("otel.exporter.otlp." + signal + ".endpoint");
        if (specific != null && !specific.isBlank()) {
          yield specific;
        }
        String base = c.getString("otel.exporter.otlp.endpoint");
        if (base != null && !base.isBlank()) {
          yield base;
        }
        String protocol = c.getString("otel.exporter.otlp." + signal + ".protocol",
            c.getString("otel.exporter.otlp.protocol", "http/protobuf"));
        yield protocol.equals("grpc") ? "http://localhost:4317" : "http://localhost:4318";
      }
      case "zipkin" -> c.getString("otel.exporter.zipkin.endpoint", "http://localhost:9411/api/v2/spans");
      case "console" -> "the log";
      default -> exporter.getClass().getSimpleName();
    };
  }

  /** Milliseconds, the unit OTEL_* durations take without a suffix. */
  public static String millis(Duration d) {
    return Long.toString(d.toMillis());
  }
}
