package dev.wmscope.otel;

import java.util.Objects;

/**
 * Who served a connection, in Workerman's terms, as discovery found it from the process
 * titles. Plain values; the agent builds these.
 *
 * @param workerName Worker::$name (e.g. "ChatGateway"); may contain spaces
 * @param listen     the worker's listen URI as in its title (e.g. "websocket://0.0.0.0:8282"),
 *                   "none" for a worker without a listener
 * @param masterPid  the app's master process
 * @param startFile  the app's start file (e.g. /srv/chat/start.php)
 * @param role       master, worker, gateway, business_worker or register
 */
public record WorkerIdentity(String workerName, String listen, long masterPid, String startFile, String role) {
  public WorkerIdentity {
    Objects.requireNonNull(workerName, "workerName");
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(startFile, "startFile");
    Objects.requireNonNull(role, "role");
  }
}
