package dev.wmscope.agent.discovery;

import java.util.Objects;
import java.util.Optional;

/**
 * A process of a discovered Workerman application, with what the exported attributes need:
 * {@code process.pid}, {@code workerman.worker.name}, {@code workerman.worker.listen},
 * {@code workerman.master.pid}, {@code workerman.start_file} and {@code workerman.role}.
 *
 * @param pid        the process id
 * @param masterPid  the master's pid (for the master itself, its own pid)
 * @param startFile  the application's start file; empty when unknown (truncated title, or a
 *                   worker whose master is gone)
 * @param role       master, worker, or a GatewayWorker role guessed from the name
 * @param workerName the worker name; empty for the master
 * @param listen     the listen text as the title shows it ({@code text://0.0.0.0:2347},
 *                   {@code none}); empty for the master and when the title has none
 * @param listenUri  the parsed listener, empty for the master, {@code none} and unparsable text
 */
public record WorkermanProcess(int pid, int masterPid, String startFile, WorkermanRole role,
                               String workerName, String listen, Optional<ListenUri> listenUri) {

    public WorkermanProcess {
        Objects.requireNonNull(startFile, "startFile");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(workerName, "workerName");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(listenUri, "listenUri");
    }

    /** Whether this is the master process. */
    public boolean isMaster() {
        return role == WorkermanRole.MASTER;
    }

    /** The TCP port this worker's own definition listens on, or empty (none, unix, udp). */
    public Optional<Integer> tcpPort() {
        return listenUri.filter(ListenUri::isTcp).filter(ListenUri::hasPort).map(ListenUri::port);
    }
}
