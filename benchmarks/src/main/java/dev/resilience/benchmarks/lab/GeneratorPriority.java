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
