package dev.wmscope.agent.discovery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads processes from a procfs tree and finds the Workerman applications among them.
 *
 * <p>The root is injectable so tests can point it at a fake tree of {@code <pid>/cmdline} and
 * {@code <pid>/stat} files. Processes come and go while a scan runs: one that vanishes between
 * listing and reading (or that cannot be read) is skipped, never an error. Kernel threads and
 * zombies have an empty command line and are skipped by {@link #scan()}.
 *
 * <p>Stateless apart from the root path; safe to use from several threads. Each call reads
 * {@code /proc} afresh. {@link #scan()} reads {@code stat} only for processes whose command
 * line carries a Workerman title, so a scan costs one small read per process on the host plus
 * one more per Workerman process.
 */
public final class ProcScanner {

    /** The host's procfs. */
    public static final Path DEFAULT_PROC_ROOT = Path.of("/proc");

    private final Path procRoot;

    /** A scanner over the host's {@code /proc}. */
    public ProcScanner() {
        this(DEFAULT_PROC_ROOT);
    }

    /** A scanner over the procfs tree at {@code procRoot}. */
    public ProcScanner(Path procRoot) {
        this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
    }

    public Path procRoot() {
        return procRoot;
    }

    /**
     * Finds the Workerman applications running now.
     *
     * @throws IOException if the procfs root cannot be listed
     */
    public List<WorkermanApp> scan() throws IOException {
        List<ProcEntry> titled = new ArrayList<>();
        for (int pid : pids()) {
            byte[] cmdline = readBytes(pid, "cmdline");
            if (cmdline == null || WorkermanTitle.parse(cmdline).isEmpty()) {
                continue;
            }
            read(pid, cmdline).ifPresent(titled::add);
        }
        return WorkermanApps.assemble(titled);
    }

    /**
     * Reads every process (for selection by pid or name regex).
     *
     * @throws IOException if the procfs root cannot be listed
     */
    public List<ProcEntry> processes() throws IOException {
        List<ProcEntry> all = new ArrayList<>();
        for (int pid : pids()) {
            byte[] cmdline = readBytes(pid, "cmdline");
            if (cmdline != null) {
                read(pid, cmdline).ifPresent(all::add);
            }
        }
        return all;
    }

    /** Reads one process, or empty if it does not exist (any more) or cannot be read. */
    public Optional<ProcEntry> process(int pid) {
        byte[] cmdline = readBytes(pid, "cmdline");
        return cmdline == null ? Optional.empty() : read(pid, cmdline);
    }

    /** The numeric entries of the root, in ascending order. */
    public List<Integer> pids() throws IOException {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(procRoot)) {
            for (Path p : dir) {
                int pid = parsePid(p.getFileName().toString());
                if (pid > 0) {
                    pids.add(pid);
                }
            }
        } catch (IOException e) {
            throw new IOException("list " + procRoot + ": " + e.getMessage(), e);
        }
        pids.sort(null);
        return pids;
    }

    private Optional<ProcEntry> read(int pid, byte[] cmdline) {
        byte[] stat = readBytes(pid, "stat");
        if (stat == null) {
            return Optional.empty();
        }
        return parseStat(new String(stat, StandardCharsets.UTF_8))
                .filter(s -> s.pid() == pid)
                .map(s -> new ProcEntry(pid, s.ppid(), s.comm(), s.startTicks(),
                        new String(cmdline, StandardCharsets.UTF_8)));
    }

    private byte[] readBytes(int pid, String file) {
        try {
            return Files.readAllBytes(procRoot.resolve(Integer.toString(pid)).resolve(file));
        } catch (IOException | SecurityException e) {
            return null; // exited meanwhile, or hidden from us (hidepid)
        }
    }

    private static int parsePid(String name) {
        if (name.isEmpty() || name.length() > 10) {
            return -1;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        long v = Long.parseLong(name);
        return v <= Integer.MAX_VALUE ? (int) v : -1;
    }

    /** The fields of {@code /proc/PID/stat} that discovery uses. */
    public record Stat(int pid, String comm, char state, int ppid, long startTicks) {
    }

    /**
     * Parses {@code /proc/PID/stat}. The command name sits in parentheses and may itself contain
     * spaces and parentheses (a process can name itself {@code "a) (b"}), so the fields are read
     * after the <em>last</em> closing parenthesis.
     *
     * @return the fields, or empty if the text is not a stat line
     */
    public static Optional<Stat> parseStat(String stat) {
        if (stat == null) {
            return Optional.empty();
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open <= 0 || close < open) {
            return Optional.empty();
        }
        String[] rest = stat.substring(close + 1).strip().split(" +");
        // rest[0] = state (field 3), rest[1] = ppid (field 4), rest[19] = starttime (field 22)
        if (rest.length < 2 || rest[0].length() != 1) {
            return Optional.empty();
        }
        try {
            int pid = Integer.parseInt(stat.substring(0, open).strip());
            int ppid = Integer.parseInt(rest[1]);
            long start = rest.length > 19 ? Long.parseLong(rest[19]) : 0L;
            return Optional.of(new Stat(pid, stat.substring(open + 1, close), rest[0].charAt(0), ppid, start));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
