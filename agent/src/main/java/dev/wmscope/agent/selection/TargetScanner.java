package dev.wmscope.agent.selection;

import dev.wmscope.agent.discovery.ProcEntry;
import dev.wmscope.agent.discovery.ProcScanner;
import dev.wmscope.agent.discovery.WorkermanApp;
import dev.wmscope.agent.discovery.WorkermanProcess;
import dev.wmscope.otel.WorkerIdentity;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One discovery pass: reads /proc and turns the {@link Selection} into {@link WatchTargets}.
 * Workerman apps are always identified (their identities name the owners of connections even
 * under an explicit selection); with no selection they are also what is watched: every
 * worker's pid (outbound connections) and every TCP port a worker listens on, from its title
 * and from its actual sockets (which include GatewayWorker's internal ports).
 */
public final class TargetScanner {
  private final Selection selection;
  private final ProcScanner procs;
  private final ListeningPorts listening;
  private final long self = ProcessHandle.current().pid();

  public TargetScanner(Selection selection, ProcScanner procs, ListeningPorts listening) {
    this.selection = selection;
    this.procs = procs;
    this.listening = listening;
  }

  /** The result of a pass: targets and the Workerman apps seen. */
  public record Pass(WatchTargets targets, List<WorkermanApp> apps) {}

  public Pass scan() throws IOException {
    listening.newPass();
    List<WorkermanApp> apps = procs.scan();
    Map<Long, WorkerIdentity> identities = new HashMap<>();
    for (WorkermanApp app : apps) {
      for (WorkermanProcess p : app.processes()) {
        identities.put((long) p.pid(), identity(p));
      }
    }
    Set<Integer> ports = new TreeSet<>();
    Set<Integer> pids = new TreeSet<>();
    Set<Integer> capture = new TreeSet<>();
    for (WorkermanApp app : apps) {
      capture.addAll(app.httpListenPorts());
    }
    if (selection.wholeCgroup()) {
      ports.add(0); // the kernel maps read key 0 as "any"; the cgroup bounds what is seen
      pids.add(0);
      ports.addAll(capture); // watched through 0 already: their own entries add the capture flag
    } else if (selection.workermanAuto()) {
      for (WorkermanApp app : apps) {
        ports.addAll(app.tcpListenPorts());
        for (int pid : app.workerPids()) {
          pids.add(pid);
          ports.addAll(listening.of(pid));
        }
      }
    } else {
      ports.addAll(selection.ports());
      Set<Integer> chosen = new TreeSet<>(selection.pids());
      selection.processName().ifPresent(pattern -> {
        try {
          for (ProcEntry p : procs.processes()) {
            // the command line as ps shows it: arguments separated by spaces, no NUL padding
            if (p.pid() != self && (pattern.matcher(p.comm()).find() || pattern.matcher(p.displayCmdline()).find())) {
              chosen.add(p.pid());
            }
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      for (int pid : chosen) {
        pids.add(pid);
        ports.addAll(listening.of(pid));
      }
    }
    capture.retainAll(ports);
    return new Pass(new WatchTargets(ports, pids, identities, capture), apps);
  }

  static WorkerIdentity identity(WorkermanProcess p) {
    return new WorkerIdentity(p.workerName(), p.isMaster() ? "" : (p.listen().isEmpty() ? "none" : p.listen()),
        p.masterPid(), p.startFile(), p.role().attributeValue());
  }
}
