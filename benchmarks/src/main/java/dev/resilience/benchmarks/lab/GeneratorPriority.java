package dev.resilience.benchmarks.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Puts the generator thread under Linux's real-time FIFO scheduling while it keeps time, and back.
 *
 * <p>Why: on 2 cores the generator shares the CPU with the dependency's workers, the HTTP client's
 * selector and hundreds of caller threads; under the normal scheduler a woken thread can wait a
 * full scheduling period for a core, which put the generator's lag at p99.9 8-35 ms in every run of
 * 2026-12-01 (goal: 1 ms). A FIFO thread runs as soon as it wakes. The generator only parks and hands
 * calls over, so it takes little CPU from the experiment; the kernel's real-time throttling (95 % of
 * each second by default) bounds it anyway.
 *
 * <p>How: Java has no API for a thread's scheduling policy, so this runs {@code chrt} on the
 * thread's Linux id ({@code /proc/thread-self}). That needs root or {@code CAP_SYS_NICE}; where it
 * fails the lab runs at normal priority and its summary says so. Side effect: a thread the
 * generator starts while raised inherits FIFO; the one seen in practice is the JDK's process-reaper
 * thread created by {@link #lower}'s own {@code chrt} launch, which only waits for child processes.
 */
final class GeneratorPriority {

    /** The real-time priority asked for: low in the FIFO range, above every normal thread. */
    static final int FIFO_PRIORITY = 10;

    private GeneratorPriority() {
    }

    /**
     * Moves the calling thread to FIFO scheduling; returns whether that worked.
     */
    static boolean raise() {
        return chrt("-f", FIFO_PRIORITY);
    }

    /** Moves the calling thread back to normal scheduling; returns whether that worked. */
    static boolean lower() {
        return chrt("-o", 0);
    }

    /**
     * Whether the kernel's DAMON monitor is running and how often it samples, read from
     * {@code /sys/kernel/mm/damon/admin} (the lab changes nothing there). On this project's VM a
     * {@code kdamond} thread samples the whole physical memory every 500 ms; while the lab's JVM runs
     * each pass takes about 9 ms of kernel time, and a generator woken during one waited that long
     * (measured 2026-12-01, benchmarks/RESULTS.md, "The generator's lag"). The lab reads it when it
     * starts and when it ends, and the summary prints both if they differ.
     */
    static String memoryMonitor() {
        Path admin = Path.of("/sys/kernel/mm/damon/admin/kdamonds");
        if (!Files.isDirectory(admin)) {
            return "no DAMON";
        }
        StringBuilder b = new StringBuilder();
        try (var kdamonds = Files.list(admin)) {
            for (Path k : (Iterable<Path>) kdamonds.filter(Files::isDirectory).sorted()::iterator) {
                String state = read(k.resolve("state"));
                String sample = read(k.resolve("contexts/0/monitoring_attrs/intervals/sample_us"));
                b.append(b.length() == 0 ? "" : ", ").append("kdamond ").append(k.getFileName()).append(' ').append(state);
                if ("on".equals(state) && !sample.isEmpty()) {
                    long us = Long.parseLong(sample);
                    b.append(" (sampling every ").append(us >= 1000 ? us / 1000 + " ms" : us + " us").append(')');
                }
            }
        } catch (IOException | RuntimeException e) {
            return "DAMON state unreadable (" + e.getClass().getSimpleName() + ")";
        }
        return b.length() == 0 ? "DAMON without kdamonds" : "DAMON, " + b;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean chrt(String policy, int priority) {
        String tid;
        try {
            Path self = Files.readSymbolicLink(Path.of("/proc/thread-self")); // "<pid>/task/<tid>"
            tid = self.getFileName().toString();
        } catch (IOException | UnsupportedOperationException e) {
            return false; // not Linux
        }
        try {
            Process p = new ProcessBuilder("chrt", policy, "-p", Integer.toString(priority), tid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false; // no chrt
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
