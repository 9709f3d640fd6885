package dev.wmscope.agent.discovery;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A Workerman process title read from {@code /proc/PID/cmdline}.
 *
 * <p>Workerman (3.x to 5.x) names its processes with {@code cli_set_process_title}:
 * <pre>
 *   master  {processTitle}: master process  start_file={start file}
 *   worker  {processTitle}: worker process  {worker name} {listen}
 * </pre>
 * with two spaces after "process", {@code processTitle} = {@code Worker::$processTitle}
 * (default {@value #DEFAULT_PROCESS_TITLE}, any non-empty prefix is accepted), the start file
 * the absolute path of the script that called {@code Worker::runAll()}, the worker name
 * ({@code $worker->name}, default {@code none}, may contain spaces) and listen the socket name
 * with its first letter lower-cased, or {@code none} for a worker without a listener.
 * {@code /proc/PID/comm} stays {@code php}, so only the command line tells them apart.
 *
 * <p>What the kernel returns after {@code cli_set_process_title} (PHP 8.2, Linux 6.18, checked
 * with the stand-in): the title, then NUL bytes up to the length of the original argv area
 * ({@code "WorkerMan: worker process  Chat Worker text://127.0.0.1:23471\0\0\0..."}), or the
 * title and a single NUL when the title is longer than the original argv. PHP cuts a title that
 * does not fit in the original argv plus environment, so a process started with an almost empty
 * environment ({@code env -i php start.php start}) shows {@code "WorkerMan: worker proc\0\0"}.
 * This parser therefore reads only up to the first NUL, ignores trailing padding and
 * whitespace, and recognises a cut-off title of the default form as a {@linkplain #truncated()
 * truncated} master or worker whose details are unknown. A start file or listen address cut in
 * the middle cannot be detected.
 *
 * <p>Only the first argument counts: {@code grep "WorkerMan: master process"} has the title in
 * its second argument and is not a Workerman process.
 */
public sealed interface WorkermanTitle permits WorkermanTitle.Master, WorkermanTitle.Worker {

    /** Workerman's default {@code Worker::$processTitle}. */
    String DEFAULT_PROCESS_TITLE = "WorkerMan";

    /** The prefix before ": master process" / ": worker process". */
    String processTitle();

    /** Whether the title was cut short (by PHP, for lack of argv space); details are unknown. */
    boolean truncated();

    /**
     * A master title.
     *
     * @param startFile the start file, empty when the title was truncated before it
     */
    record Master(String processTitle, String startFile, boolean truncated) implements WorkermanTitle {
        /** Title text is any local user's: escaped and capped here, where it enters (see {@link ProcText}). */
        public Master {
            processTitle = ProcText.clean(processTitle, ProcText.NAME_LIMIT);
            startFile = ProcText.clean(startFile, ProcText.PATH_LIMIT);
        }
    }

    /**
     * A worker title.
     *
     * @param name      the worker name ({@code none} when the application set none); empty when
     *                  truncated before it
     * @param listen    the listen text as shown: a socket name, {@code none}, or empty when the
     *                  title has no listen part (truncated, or a pre-3.x title)
     * @param listenUri the parsed listener; empty for {@code none}, a missing or an unparsable
     *                  listen part
     */
    record Worker(String processTitle, String name, String listen, Optional<ListenUri> listenUri,
                  boolean truncated) implements WorkermanTitle {
        /** Title text is any local user's: escaped and capped here, where it enters (see {@link ProcText}). */
        public Worker {
            processTitle = ProcText.clean(processTitle, ProcText.NAME_LIMIT);
            name = ProcText.clean(name, ProcText.NAME_LIMIT);
            listen = ProcText.clean(listen, ProcText.PATH_LIMIT);
        }

        /** Whether the worker has a listening socket of its own definition. */
        public boolean hasListener() {
            return listenUri.isPresent();
        }
    }

    /** Marker between the process title and the start file of a master. */
    String MASTER_MARKER = ": master process  start_file=";
    /** Marker between the process title and the name of a worker. */
    String WORKER_MARKER = ": worker process  ";
    /** Listen text of a worker without a listener. */
    String NO_LISTEN = "none";

    /**
     * Parses the raw bytes of {@code /proc/PID/cmdline} (UTF-8; worker names are often not
     * ASCII).
     */
    static Optional<WorkermanTitle> parse(byte[] cmdline) {
        if (cmdline == null) {
            return Optional.empty();
        }
        int end = 0;
        while (end < cmdline.length && cmdline[end] != 0) {
            end++;
        }
        return parse(new String(cmdline, 0, end, StandardCharsets.UTF_8));
    }

    /**
     * Parses a command line given as text: {@code /proc/PID/cmdline} with its NUL separators, or
     * a title as {@code ps -o args} prints it.
     *
     * @return the title, or empty for a process that is not a Workerman master or worker
     */
    static Optional<WorkermanTitle> parse(String cmdline) {
        if (cmdline == null) {
            return Optional.empty();
        }
        int nul = cmdline.indexOf('\0');
        String title = (nul >= 0 ? cmdline.substring(0, nul) : cmdline).stripTrailing();
        if (title.isEmpty()) {
            return Optional.empty();
        }

        int m = title.indexOf(MASTER_MARKER);
        int w = title.indexOf(WORKER_MARKER);
        if (m > 0 && (w < 0 || m < w)) {
            String startFile = title.substring(m + MASTER_MARKER.length());
            return Optional.of(new Master(title.substring(0, m), startFile, startFile.isEmpty()));
        }
        if (w > 0) {
            return Optional.of(worker(title.substring(0, w), title.substring(w + WORKER_MARKER.length())));
        }
        return truncatedDefault(title);
    }

    private static Worker worker(String processTitle, String rest) {
        int space = rest.lastIndexOf(' ');
        if (space >= 0) {
            String last = rest.substring(space + 1);
            if (last.equals(NO_LISTEN)) {
                return new Worker(processTitle, rest.substring(0, space), NO_LISTEN, Optional.empty(), false);
            }
            if (last.contains("://")) {
                return new Worker(processTitle, rest.substring(0, space), last, ListenUri.parse(last), false);
            }
        }
        // No recognisable listen part: a title cut short, or one written without it.
        return new Worker(processTitle, rest, "", Optional.empty(), false);
    }

    /** A default-prefix title cut off inside its fixed part, e.g. "WorkerMan: worker proc". */
    private static Optional<WorkermanTitle> truncatedDefault(String title) {
        String master = DEFAULT_PROCESS_TITLE + MASTER_MARKER;
        String worker = DEFAULT_PROCESS_TITLE + WORKER_MARKER;
        // "WorkerMan: m" / "WorkerMan: w" is the shortest text that still names the role.
        int minimum = DEFAULT_PROCESS_TITLE.length() + 3;
        if (title.length() < minimum) {
            return Optional.empty();
        }
        if (master.startsWith(title)) {
            return Optional.of(new Master(DEFAULT_PROCESS_TITLE, "", true));
        }
        if (worker.startsWith(title)) {
            return Optional.of(new Worker(DEFAULT_PROCESS_TITLE, "", "", Optional.empty(), true));
        }
        return Optional.empty();
    }
}
