package dev.wmscope.agent.discovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Groups processes with Workerman titles into applications. Pure logic over {@link ProcEntry}
 * values, so it is tested without a real {@code /proc}.
 *
 * <p>Rules, from how Workerman 5 behaves:
 * <ol>
 *   <li>A worker's master is its parent. ({@code start -d} forks twice, so a daemon master's own
 *       parent is PID 1 or a subreaper, which does not matter here.) A process with a worker
 *       title whose parent also has a worker title (application code that forked inside a
 *       worker) belongs to the same master: the chain of worker parents is followed up.</li>
 *   <li>A process with the master title is a master if it is the parent of at least one
 *       worker. Workerman's {@code status}, {@code connections}, {@code stop}, {@code reload}
 *       and {@code restart} commands give their own short-lived process the master title too,
 *       but they never have workers.</li>
 *   <li>Master-titled processes without workers are grouped by title prefix and start file. If
 *       a master with workers exists in the group, they are all command helpers and ignored.
 *       Otherwise the oldest one (earliest start time, then lowest pid) is an application that
 *       has not forked yet (or whose workers have all exited during a stop), and the rest are
 *       helpers: a helper can only run while the real master runs, so the master is older. The
 *       same holds for the intermediate processes of {@code start -d}, which exit at once.</li>
 *   <li>A master-titled process without workers whose title was truncated (no start file) is
 *       not reported: there is nothing to tell it from a helper. It appears once it has
 *       workers.</li>
 *   <li>Workers whose parent has no master title (the master was killed with SIGKILL and the
 *       workers were adopted) form an application with {@code masterSeen = false}, keyed by
 *       that parent and an empty start file, so their connections are still attributed.</li>
 * </ol>
 * Two containers running the same start file show up as two applications with different master
 * pids. One blind spot: if one of them has no workers yet while the other has, the one without
 * workers is taken for a helper until it forks.
 */
public final class WorkermanApps {

    /** Longest chain of worker-titled ancestors followed to find the master. */
    private static final int MAX_WORKER_DEPTH = 16;

    private WorkermanApps() {
    }

    /**
     * Builds the applications from a snapshot of processes; processes without a Workerman title
     * are ignored.
     *
     * @return the applications ordered by master pid, their workers ordered by pid
     */
    public static List<WorkermanApp> assemble(Collection<ProcEntry> processes) {
        Map<Integer, ProcEntry> byPid = new HashMap<>();
        Map<Integer, WorkermanTitle> titles = new HashMap<>();
        for (ProcEntry p : processes) {
            Optional<WorkermanTitle> title = p.title();
            if (title.isPresent()) {
                byPid.put(p.pid(), p);
                titles.put(p.pid(), title.get());
            }
        }

        // Workers by the pid of the master they belong to.
        Map<Integer, List<ProcEntry>> workersByMaster = new TreeMap<>();
        for (ProcEntry p : byPid.values()) {
            if (titles.get(p.pid()) instanceof WorkermanTitle.Worker) {
                workersByMaster.computeIfAbsent(masterOf(p, byPid, titles), k -> new ArrayList<>()).add(p);
            }
        }

        List<WorkermanApp> apps = new ArrayList<>();
        Set<GroupKey> groupsWithWorkers = new HashSet<>();
        Map<GroupKey, List<ProcEntry>> idleMasters = new LinkedHashMap<>();
        for (ProcEntry p : byPid.values()) {
            if (!(titles.get(p.pid()) instanceof WorkermanTitle.Master master)) {
                continue;
            }
            GroupKey group = new GroupKey(master.processTitle(), master.startFile());
            List<ProcEntry> workers = workersByMaster.remove(p.pid());
            if (workers != null) {
                groupsWithWorkers.add(group);
                apps.add(app(p.pid(), master.startFile(), master.processTitle(), true, workers, titles));
            } else if (!master.truncated()) {
                idleMasters.computeIfAbsent(group, k -> new ArrayList<>()).add(p);
            }
        }
        idleMasters.forEach((group, candidates) -> {
            if (!groupsWithWorkers.contains(group)) {
                ProcEntry oldest = candidates.stream()
                        .min(Comparator.comparingLong(ProcEntry::startTicks).thenComparingInt(ProcEntry::pid))
                        .orElseThrow();
                apps.add(app(oldest.pid(), group.startFile(), group.processTitle(), true, List.of(), titles));
            }
        });
        // Whatever is left has no master-titled parent.
        workersByMaster.forEach((parent, workers) -> {
            String prefix = titles.get(workers.getFirst().pid()).processTitle();
            apps.add(app(parent, "", prefix, false, workers, titles));
        });

        apps.sort(Comparator.comparingInt(WorkermanApp::masterPid));
        return List.copyOf(apps);
    }

    /**
     * Indexes the processes of {@code apps} (masters and workers) by pid: the table that
     * attributes a connection's pid to worker name, listen, master pid, start file and role.
     */
    public static Map<Integer, WorkermanProcess> byPid(Collection<WorkermanApp> apps) {
        Map<Integer, WorkermanProcess> index = new TreeMap<>();
        for (WorkermanApp app : apps) {
            for (WorkermanProcess p : app.processes()) {
                index.put(p.pid(), p);
            }
        }
        return index;
    }

    private static int masterOf(ProcEntry worker, Map<Integer, ProcEntry> byPid,
                                Map<Integer, WorkermanTitle> titles) {
        int parent = worker.ppid();
        for (int depth = 0; depth < MAX_WORKER_DEPTH; depth++) {
            if (!(titles.get(parent) instanceof WorkermanTitle.Worker)) {
                break;
            }
            parent = byPid.get(parent).ppid();
        }
        return parent;
    }

    private static WorkermanApp app(int masterPid, String startFile, String processTitle, boolean masterSeen,
                                    List<ProcEntry> workers, Map<Integer, WorkermanTitle> titles) {
        List<WorkermanProcess> list = workers.stream()
                .sorted(Comparator.comparingInt(ProcEntry::pid))
                .map(p -> {
                    WorkermanTitle.Worker t = (WorkermanTitle.Worker) titles.get(p.pid());
                    return new WorkermanProcess(p.pid(), masterPid, startFile,
                            WorkermanRole.ofWorker(t.name(), t.listenUri()), t.name(), t.listen(), t.listenUri());
                })
                .toList();
        return new WorkermanApp(masterPid, startFile, processTitle, masterSeen, list);
    }

    private record GroupKey(String processTitle, String startFile) {
    }
}
