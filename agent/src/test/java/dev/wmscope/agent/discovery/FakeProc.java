package dev.wmscope.agent.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A fake procfs tree for tests: {@code <root>/<pid>/cmdline} and {@code <root>/<pid>/stat}
 * written the way Linux 6.18 and PHP 8.2 produce them.
 */
final class FakeProc {

    private final Path root;

    FakeProc(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /** A process whose cmdline is a title set with cli_set_process_title (NUL padded). */
    FakeProc titled(int pid, int ppid, long startTicks, String title) {
        return process(pid, ppid, "php", startTicks, title + "\0".repeat(24));
    }

    /** A process with its raw cmdline (NULs included) and a comm of its own. */
    FakeProc process(int pid, int ppid, String comm, long startTicks, String cmdline) {
        try {
            Path dir = Files.createDirectories(root.resolve(Integer.toString(pid)));
            Files.write(dir.resolve("cmdline"), cmdline.getBytes(StandardCharsets.UTF_8));
            Files.writeString(dir.resolve("stat"), stat(pid, comm, 'S', ppid, startTicks));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Removes a process (it exited). */
    FakeProc remove(int pid) {
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
