package dev.wmscope.agent.discovery;

import java.util.Optional;

/**
 * One process as read from {@code /proc/PID}: enough to find Workerman titles and to join
 * workers to their master.
 *
 * @param pid        the process id (the thread group id)
 * @param ppid       the parent's pid, field 4 of {@code /proc/PID/stat}
 * @param comm       the command name from {@code /proc/PID/stat} (may contain spaces and
 *                   parentheses; {@code php} for every Workerman process)
 * @param startTicks the start time in clock ticks after boot, field 22 of {@code stat}; orders
 *                   processes by age
 * @param cmdline    {@code /proc/PID/cmdline} decoded as UTF-8, NUL separators kept
 */
public record ProcEntry(int pid, int ppid, String comm, long startTicks, String cmdline) {
    /** comm is any process's to set (prctl): escaped and capped here, where it enters. */
    public ProcEntry {
        comm = ProcText.clean(comm, ProcText.NAME_LIMIT);
    }

    /** The Workerman title in the command line, if there is one. */
    public Optional<WorkermanTitle> title() {
        return WorkermanTitle.parse(cmdline);
    }

    /** The command line with NULs shown as spaces and trailing padding removed, as ps shows it. */
    public String displayCmdline() {
        return ProcText.clean(cmdline.replace('\0', ' ').strip(), ProcText.PATH_LIMIT);
    }
}
