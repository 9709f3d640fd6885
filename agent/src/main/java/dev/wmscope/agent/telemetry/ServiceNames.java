package dev.wmscope.agent.telemetry;

import dev.wmscope.agent.discovery.WorkermanApp;
import dev.wmscope.agent.discovery.WorkermanProcess;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The default {@code service.name}: the Workerman app the agent watches, named after its start
 * file. Workerman, webman and GatewayWorker all call the start file {@code start.php} by
 * convention, so {@code start.php} is named after its directory ({@code /srv/chat/start.php}
 * is "chat"); any other start file after its own name without {@code .php}
 * ({@code /srv/push/push_server.php} is "push_server"). An app whose start file is unknown (its
 * master's title was truncated or the master is gone) is named after its worker when all its
 * workers share one name.
 *
 * <p>The OpenTelemetry resource is fixed for the life of the SDK, so this is decided once, at
 * start: several apps with different names, or none yet, give {@link #FALLBACK}. Every span
 * still carries {@code workerman.start_file} and {@code workerman.worker.name}, and every metric
 * {@code workerman.worker.name}, so one agent's telemetry is split per app downstream.
 */
public final class ServiceNames {
  /** service.name when no single app is found. */
  public static final String FALLBACK = "wmscope";

  private ServiceNames() {}

  /** The one name the given apps share, or empty when they are none or differ. */
  public static Optional<String> forApps(Collection<WorkermanApp> apps) {
    Set<String> names = new TreeSet<>();
    for (WorkermanApp app : apps) {
      Optional<String> name = forApp(app);
      if (name.isEmpty()) {
        return Optional.empty();
      }
      names.add(name.get());
    }
    return names.size() == 1 ? Optional.of(names.iterator().next()) : Optional.empty();
  }

  /** The name of one app, or empty when neither its start file nor a single worker name tells. */
  public static Optional<String> forApp(WorkermanApp app) {
    if (!app.startFile().isBlank()) {
      return fromStartFile(app.startFile());
    }
    Set<String> workerNames = new TreeSet<>();
    for (WorkermanProcess w : app.workers()) {
      if (!w.workerName().isBlank()) {
        workerNames.add(w.workerName().strip());
      }
    }
    return workerNames.size() == 1 ? Optional.of(workerNames.iterator().next()) : Optional.empty();
  }

  static Optional<String> fromStartFile(String startFile) {
    Path path = Path.of(startFile);
    Path file = path.getFileName();
    if (file == null) {
      return Optional.empty();
    }
    String base = file.toString();
    if (base.toLowerCase(Locale.ROOT).endsWith(".php")) {
      base = base.substring(0, base.length() - 4);
    }
    if (base.equals("start")) {
      Path dir = path.getParent() == null ? null : path.getParent().getFileName();
      // a relative "start.php" (the master was started from its own directory) has no directory
      return dir == null ? Optional.empty() : Optional.of(dir.toString());
    }
    return base.isEmpty() ? Optional.empty() : Optional.of(base);
  }
}
