package dev.wmscope.agent.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A fake procfs tree for tests: {@code <root>/<pid>/cmdline} and {@code <root>/<pid>/stat}
 * written the way Linux 6.18 and PHP 8.2 produce them, and optionally TCP listeners: the
 * {@code <root>/<pid>/net/tcp} table of one shared network namespace plus
 * {@code <root>/<pid>/fd/<n> -> socket:[inode]} links, which is what {@code ListeningPorts} joins.
 * Public so the selection tests can build trees too. Not thread-safe.
 */
public final class FakeProc {

    private final Path root;
    private final List<long[]> listeners = new ArrayList<>(); // {inode, port}
    private long nextInode = 40_000;
    private int nextFd = 3;

    public FakeProc(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** A process whose cmdline is a title set with cli_set_process_title (NUL padded). */
    public FakeProc titled(int pid, int ppid, long startTicks, String title) {
        return process(pid, ppid, "php", startTicks, title + "\0".repeat(24));
    }

    /** A process with its raw cmdline (NULs included) and a comm of its own. */
    public FakeProc process(int pid, int ppid, String comm, long startTicks, String cmdline) {
        try {
            Path dir = Files.createDirectories(root.resolve(Integer.toString(pid)));
            Files.write(dir.resolve("cmdline"), cmdline.getBytes(StandardCharsets.UTF_8));
            Files.writeString(dir.resolve("stat"), stat(pid, comm, 'S', ppid, startTicks));
            writeNetTcp(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * One TCP socket listening on 127.0.0.1:{@code port}, held by every process in {@code pids}
     * (one pid: a reusePort listener of its own; several: Workerman's shared listener, opened by
     * the master and inherited by its workers). The processes must exist already.
     */
    public FakeProc listens(int port, int... pids) {
        long inode = nextInode++;
        listeners.add(new long[] {inode, port});
        try {
            for (int pid : pids) {
                Path fd = Files.createDirectories(root.resolve(Integer.toString(pid)).resolve("fd"));
                Files.createSymbolicLink(fd.resolve(Integer.toString(nextFd++)), Path.of("socket:[" + inode + "]"));
            }
            try (Stream<Path> dirs = Files.list(root)) {
                for (Path dir : dirs.filter(d -> d.getFileName().toString().matches("[0-9]+")).toList()) {
                    writeNetTcp(dir);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** The namespace's /proc/PID/net/tcp: every listener, plus one established row as noise. */
    private void writeNetTcp(Path pidDir) throws IOException {
        StringBuilder t = new StringBuilder("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when"
                + " retrnsmt   uid  timeout inode\n");
        int sl = 0;
        for (long[] l : listeners) {
            t.append(String.format("%4d: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
                    + "     0        0 %d 1 0000000000000000 100 0 0 10 0%n", sl++, l[1], l[0]));
        }
        t.append(String.format("%4d: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000"
                + "     0        0 39999 1 0000000000000000 20 4 30 10 -1%n", sl));
        Files.writeString(Files.createDirectories(pidDir.resolve("net")).resolve("tcp"), t);
    }

    /** Removes a process (it exited). */
    public FakeProc remove(int pid) {
        Path dir = root.resolve(Integer.toString(pid));
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    static String stat(int pid, String comm, char state, int ppid, long startTicks) {
        // fields: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
        // cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime ...
        return pid + " (" + comm + ") " + state + " " + ppid + " " + ppid + " " + ppid
                + " 0 -1 4194304 1452 0 16 0 1 0 0 0 20 0 1 0 " + startTicks
                + " 68775936 4367 18446744073709551615 94089035452416 94089038645277 0 0 0 0 4096 67127815"
                + " 0 0 0 17 1 0 0 0 0 0\n";
    }
}
