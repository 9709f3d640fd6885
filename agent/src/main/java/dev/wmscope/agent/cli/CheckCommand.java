package dev.wmscope.agent.cli;

import dev.wmscope.agent.AgentLock;
import dev.wmscope.agent.ExitCodes;
import dev.wmscope.agent.http.HttpAddress;
import dev.wmscope.loader.KernelFeature;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wmscope check}: can this host run the agent? Kernel version, BTF, cgroup v2,
 * privileges and capabilities, libbpf, the tracepoints, then one real load and attach. Each
 * failure comes with what to do. Exit 0 when the agent can run (warnings allowed), 3 when not.
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Check whether this host can run the agent, and say what to do about each problem.",
        "Each optional kernel feature is listed as ok, degraded (a fallback does its work at a cost) or missing.",
        "Exit 0: it can (warnings and lost optional features mean less detail); exit 3: it cannot."})
public final class CheckCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin ConfigOption configOption;

  @CommandLine.Mixin LogOptions logOptions;

  @Option(names = "--no-load", description = "Skip the final load and attach of the programs.")
  boolean noLoad;

  @CommandLine.Mixin AgentAddressOptions agent;

  @Option(names = "--json", description = "Print the results as JSON.")
  boolean json;

  @Override
  public Integer call() {
    logOptions.apply(Level.WARNING);
    HostChecks.Host host = HostChecks.Host.current();
    List<HostChecks.Result> results = new ArrayList<>();
    results.add(HostChecks.kernel(host));
    results.add(HostChecks.btf(host));
    results.add(HostChecks.cgroup(host));
    results.add(HostChecks.privileges(HostChecks.privileges(host)));
    HostChecks.Result libbpf = HostChecks.libbpf();
    results.add(libbpf);
    results.add(libbpf.status() == HostChecks.Status.FAIL
        ? new HostChecks.Result("tracepoints", HostChecks.Status.SKIP, "not checked without libbpf", "")
        : HostChecks.tracepoints());
    boolean failed = results.stream().anyMatch(r -> r.status() == HostChecks.Status.FAIL);
    if (noLoad) {
      results.add(new HostChecks.Result("load", HostChecks.Status.SKIP, "skipped (--no-load)", ""));
    } else if (failed) {
      results.add(new HostChecks.Result("load", HostChecks.Status.SKIP, "not tried: fix the failures above first", ""));
    } else {
      results.addAll(HostChecks.load(KernelFeature.disabledByEnvironment()));
    }
    results.add(HostChecks.agent(agent.lockFile));
    Optional<HttpAddress> address = AgentAddressOptions.address(spec, agent.httpAddress);
    if (address.isPresent()) {
      HttpAddress a = address.get();
      results.add(HostChecks.http(a.host(), a.port(), AgentLock.holder(agent.lockFile)));
    }
    long problems = results.stream().filter(r -> r.status() == HostChecks.Status.FAIL).count();
    long warnings = results.stream().filter(r -> r.status() == HostChecks.Status.WARN).count();
    long degraded = results.stream()
        .filter(r -> r.status() == HostChecks.Status.DEGRADED || r.status() == HostChecks.Status.MISSING).count();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonArray checks = new JsonArray();
      results.forEach(r -> checks.add(new JsonObject().put("check", r.name())
          .put("status", r.status().name().toLowerCase(Locale.ROOT)).put("detail", r.detail()).put("fix", r.fix())));
      out.println(new JsonObject().put("can_run", problems == 0).put("problems", problems).put("warnings", warnings)
          .put("degraded_features", degraded).put("checks", checks).encode());
    } else {
      out.print(render(results, problems, warnings, degraded));
    }
    out.flush();
    return problems == 0 ? ExitCodes.OK : ExitCodes.HOST_UNSUPPORTED;
  }

  static String render(List<HostChecks.Result> results, long problems, long warnings, long degraded) {
    StringBuilder s = new StringBuilder("wmscope check: can this host run the agent?\n");
    int width = results.stream().mapToInt(r -> r.name().length()).max().orElse(8);
    for (HostChecks.Result r : results) {
      String status = switch (r.status()) {
        case OK -> "ok      ";
        case WARN -> "WARN    ";
        case FAIL -> "FAIL    ";
        case SKIP -> "skip    ";
        case INFO -> "info    ";
        case DEGRADED -> "degraded";
        case MISSING -> "missing ";
      };
      s.append("  ").append(status).append("  ").append(r.name()).append(" ".repeat(width - r.name().length()))
          .append("  ").append(r.detail()).append('\n');
      if (!r.fix().isEmpty()) {
        s.append("  ").append(" ".repeat(8)).append("  ").append(" ".repeat(width)).append("  fix: ").append(r.fix())
            .append('\n');
      }
    }
    if (problems == 0) {
      List<String> notes = new ArrayList<>();
      if (warnings > 0) {
        notes.add(warnings + " warning" + (warnings == 1 ? "" : "s"));
      }
      if (degraded > 0) {
        notes.add(degraded + " optional kernel feature" + (degraded == 1 ? "" : "s") + " not in use");
      }
      s.append("result: this host can run wmscope").append(notes.isEmpty() ? "" : " (" + String.join(", ", notes) + ")")
          .append('\n');
    } else {
      s.append("result: this host cannot run wmscope yet: ").append(problems).append(problems == 1 ? " problem" : " problems")
          .append(" (exit 3)\n");
    }
    return s.toString();
  }
}
