package dev.wmscope.agent.discovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One running Workerman application: a master and the workers it forked. Several applications
 * on one host are told apart by {@link #key()}, the master pid and start file (two containers
 * can run the same {@code /app/start.php}).
 *
 * <p>Immutable; a new scan gives new instances. Compare {@link #workerPids()} of two scans to
 * see reloads (all worker pids replaced) and re-forks (one pid replaced).
 *
 * @param masterPid    the master's pid: the parent of the workers
 * @param startFile    the start file from the master title; empty when unknown
 * @param processTitle the title prefix ({@code WorkerMan} unless the application changed
 *                     {@code Worker::$processTitle})
 * @param masterSeen   whether a process with the master title is that parent; false for
 *                     workers whose master died (killed with SIGKILL, they keep serving and are
 *                     adopted by init or a subreaper, so {@code masterPid} is that adopter)
 * @param workers      the worker processes, by pid
 */
public record WorkermanApp(int masterPid, String startFile, String processTitle, boolean masterSeen,
                           List<WorkermanProcess> workers) {

    /** What identifies an application across scans. */
    public record Key(int masterPid, String startFile) {
    }

    public WorkermanApp {
        Objects.requireNonNull(startFile, "startFile");
        Objects.requireNonNull(processTitle, "processTitle");
        workers = List.copyOf(workers);
    }

    public Key key() {
        return new Key(masterPid, startFile);
    }

    /** The master as a process record (role master, no worker name or listen), if seen. */
    public Optional<WorkermanProcess> master() {
        return masterSeen
                ? Optional.of(new WorkermanProcess(masterPid, masterPid, startFile, WorkermanRole.MASTER,
                        "", "", Optional.empty()))
                : Optional.empty();
    }

    /** The master (if seen) followed by the workers. */
    public List<WorkermanProcess> processes() {
        List<WorkermanProcess> all = new ArrayList<>(workers.size() + 1);
        master().ifPresent(all::add);
        all.addAll(workers);
        return List.copyOf(all);
    }

    /** The worker pids, sorted. */
    public Set<Integer> workerPids() {
        TreeSet<Integer> pids = new TreeSet<>();
        workers.forEach(w -> pids.add(w.pid()));
        return pids;
    }

    /** The TCP ports the workers' titles show, sorted (Gateway's internal ports are not shown). */
    public Set<Integer> tcpListenPorts() {
        TreeSet<Integer> ports = new TreeSet<>();
        workers.forEach(w -> w.tcpPort().ifPresent(ports::add));
        return ports;
    }

    /**
     * Ports of workers that speak HTTP ({@code http://}) or WebSocket ({@code websocket://},
     * whose handshake is HTTP): their connections' bytes are framed into requests and messages.
     */
    public Set<Integer> httpListenPorts() {
        TreeSet<Integer> ports = new TreeSet<>();
        workers.stream().filter(w -> w.listenUri().map(u -> u.scheme().equals("http") || u.scheme().equals("websocket"))
            .orElse(false)).forEach(w -> w.tcpPort().ifPresent(ports::add));
        return ports;
    }
}
