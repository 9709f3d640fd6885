package dev.wmscope.agent.health;

import dev.wmscope.loader.HealthEvent;
import java.util.List;

/**
 * Why a Workerman worker exited, from its exit status, the signals it was sent before (with their
 * senders) and the OOM killer's choice. Workerman's own protocol (Worker.php): the master sends
 * SIGUSR1 (SIGUSR2: graceful) to reload a worker and SIGINT (SIGQUIT: graceful) to stop it, the
 * worker then exits by itself with code 0, and the master sends SIGKILL when it is still there
 * after stop_timeout. SIGIOT and SIGIO are the status and connections commands: never a cause.
 *
 * @param cause  reload, stop, stop_timeout, signal, oom, crash, exit, error, unknown
 * @param detail a readable account, e.g. "killed by SIGKILL from its master 12 (stop timeout)"
 */
public record ExitCause(String cause, String detail) {
  static final int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
      SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGTERM = 15, SIGIO = 29, SIGTSTP = 20;

  /** A signal sent to the worker: number, sender (0: the kernel) and how to name the sender. */
  public record Sent(int signal, long sender, String senderDescription) {}

  /** A signal that makes a Workerman master stop every worker (stop, stop -g, a service manager's TERM). */
  static boolean stopsAll(int signal) {
    return signal == SIGINT || signal == SIGTERM || signal == SIGQUIT || signal == SIGHUP;
  }

  /** A signal Workerman's master or an operator sends to end or replace a worker. */
  static boolean asksToStop(int signal) {
    return signal == SIGINT || signal == SIGTERM || signal == SIGQUIT || signal == SIGHUP || signal == SIGUSR1
        || signal == SIGUSR2 || signal == SIGKILL;
  }

  /**
   * @param exit    the exit record (status, last signal, OOM mark)
   * @param signals signals sent to it before, oldest first (status signals included; ignored here)
   * @param master  its master's pid (0: unknown)
   */
  public static ExitCause of(HealthEvent exit, List<Sent> signals, long master, String exitSender) {
    if (exit.oomChosen()) {
      return new ExitCause("oom", "killed by the OOM killer");
    }
    Sent control = null; // the last reload/stop signal (SIGKILL is how one ends, not what was asked)
    for (Sent s : signals) {
      if (s.signal() != SIGABRT && s.signal() != SIGIO && s.signal() != SIGKILL) {
        control = s;
      }
    }
    if (exit.killedBySignal()) {
      int sig = exit.terminatingSignal();
      String by = exit.sender() == 0 && exit.signal() == sig ? "the kernel" : exitSender;
      String core = exit.coreDumped() ? ", core dumped" : "";
      if (sig == SIGKILL && master > 0 && exit.sender() == master && exit.signal() == SIGKILL) {
        return new ExitCause("stop_timeout", "killed by SIGKILL from its master " + master
            + " (still running after the stop timeout" + (control != null ? " of " + name(control.signal()) : "") + ")");
      }
      if (exit.signal() != sig || exit.sender() == 0) {
        if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT) {
          return new ExitCause("crash", "terminated by " + name(sig) + core);
        }
      }
      return new ExitCause("signal", "killed by " + name(sig) + " from " + by + core);
    }
    int code = exit.exitCode();
    if (control != null) {
      String from = control.sender() == master && master > 0 ? "its master " + master : control.senderDescription();
      switch (control.signal()) {
        case SIGUSR1, SIGUSR2 -> {
          return new ExitCause("reload", "exited with code " + code + " after " + name(control.signal())
              + " from " + from + " (reload)");
        }
        case SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGQUIT -> {
          return new ExitCause("stop", "exited with code " + code + " after " + name(control.signal())
              + " from " + from + " (stop)");
        }
        default -> { }
      }
    }
    return code == 0 ? new ExitCause("exit", "exited by itself with code 0")
        : new ExitCause("error", "exited by itself with code " + code + (code == 255 ? " (a PHP fatal error)"
            : code == 250 ? " (an uncaught exception in a Workerman callback)" : ""));
  }

  static String name(int sig) {
    return switch (sig) {
      case SIGHUP -> "SIGHUP";
      case SIGINT -> "SIGINT";
      case SIGQUIT -> "SIGQUIT";
      case SIGILL -> "SIGILL";
      case SIGABRT -> "SIGIOT";
      case SIGBUS -> "SIGBUS";
      case SIGFPE -> "SIGFPE";
      case SIGKILL -> "SIGKILL";
      case SIGUSR1 -> "SIGUSR1";
      case SIGSEGV -> "SIGSEGV";
      case SIGUSR2 -> "SIGUSR2";
      case SIGTERM -> "SIGTERM";
      case SIGTSTP -> "SIGTSTP";
      case SIGIO -> "SIGIO";
      default -> "signal " + sig;
    };
  }
}
