package dev.resilience.benchmarks.lab;

import dev.resilience.benchmarks.lab.RunStats.Outcome;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Runs the open-loop load: one generator thread computes each call's intended send time from the
 * scenario's rate, parks until then and hands the call to a caller pool without waiting for it
 * (open loop: a slow answer never delays the next arrival). Latency is measured from the intended
 * time (wrk2's correction for coordinated omission). The generator records its own lag (hand-off
 * time minus intended time) and the caller threads their start lag.
 *
 * <p>Caller pool: platform threads (JDK 17: no virtual threads), {@value #PRESTARTED_CALLERS} started
 * up front (so the generator does not create threads while it keeps time), more created on demand
 * up to {@value #MAX_CALLERS}; each blocking call holds one until it ends (at most D plus a peer's
 * retry waits). A call the full pool cannot take is counted as overflow, never dropped silently.
 */
final class Lab implements AutoCloseable {

    static final int MAX_CALLERS = 4000;
    static final int PRESTARTED_CALLERS = 400;

    private final LabServer server;
    private final long deadlineNanos;
    private final ThreadPoolExecutor callers;
    private final ScheduledExecutorService faults;
    private final AtomicInteger inFlight = new AtomicInteger();
    private int runs;
    private int realtimeRuns;

    Lab(LabServer server, long deadlineNanos) {
        this.server = server;
        this.deadlineNanos = deadlineNanos;
        this.callers = new ThreadPoolExecutor(PRESTARTED_CALLERS, MAX_CALLERS, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemonThreads("lab-caller"));
        // started up front, so that the generator thread does not start threads while it keeps time
        callers.prestartAllCoreThreads();
        this.faults = new ScheduledThreadPoolExecutor(1, daemonThreads("lab-faults"));
    }

    /** Daemon threads with small stacks (many callers block at once). */
    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(null, r, prefix + "-" + n.incrementAndGet(), 256 * 1024);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * How the generator thread was scheduled: "SCHED_FIFO" if {@link GeneratorPriority} raised it
     * in every run, "normal" if in none, else how many runs of how many.
     */
    String generatorScheduling() {
        return realtimeRuns == runs ? "SCHED_FIFO " + GeneratorPriority.FIFO_PRIORITY + " (chrt) in every run"
                : realtimeRuns == 0 ? "normal priority (chrt was refused: needs root or CAP_SYS_NICE)"
                : "SCHED_FIFO in " + realtimeRuns + " of " + runs + " runs, normal in the others";
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.port() + "/work");
    }

    /**
     * One run: {@code seconds} of load at {@code rateAt(t)} calls a second through the setup that
     * {@code setupFor} builds on the run's client, with the scenario's fault if any; returns when
     * every call has ended and the dependency has worked off its queue (bounded waits).
     */
    RunStats run(Scenario sc, double capacity, Function<LabHttp, Setup> setupFor) throws InterruptedException {
        // A full collection now, outside the schedule: the last run's garbage (its JDK client and its
        // selector thread among it) goes, and with the young generation the lab's JVM is started with
        // (see OverloadLab), a run rarely needs a collection while it keeps time.
        System.gc();
        long start = System.nanoTime() + 200_000_000L;
        RunStats stats = new RunStats(start, sc.duration, sc.duration + 60); // + a tail for late answers and the queue's drain
        LabHttp http = new LabHttp(stats, uri());
        Setup setup = setupFor.apply(http);
        server.inboundLimit(setup.inboundLimit() ? server.newInboundLimiter() : null);
        server.stats(stats);
        server.slowFactor(sc.slowFactor);
        if (sc.hasFault()) {
            schedule(start + sc.faultStart * 1_000_000_000L, sc.fault);
            schedule(start + sc.faultEnd * 1_000_000_000L, LabServer.Fault.NONE);
        }
        long end = start + sc.duration * 1_000_000_000L;
        runs++;
        if (GeneratorPriority.raise()) { // before the schedule starts: chrt takes a few milliseconds
            realtimeRuns++;
        }
        long[] gcBefore = gc();
        long intended = start;
        try {
            while (intended - end < 0) {
                for (long wait; (wait = intended - System.nanoTime()) > 0; ) {
                    LockSupport.parkNanos(wait);
                }
                long dispatched = System.nanoTime();
                final long at = intended;
                int clientLimit = setup.clientLimit();
                inFlight.incrementAndGet();
                try {
                    callers.execute(() -> call(setup, stats, at));
                    stats.offered(at, dispatched, clientLimit);
                } catch (RejectedExecutionException e) {
                    inFlight.decrementAndGet();
                    stats.offered(at, dispatched, clientLimit);
                    stats.overflow(at);
                }
                double rate = sc.loadAt((intended - start) / 1e9) * capacity;
                intended += (long) (1e9 / rate);
            }
        } finally {
            GeneratorPriority.lower(); // also when a setup throws: the rest of the lab runs at normal priority
        }
        long[] gcAfter = gc();
        stats.gcDuringSchedule(gcAfter[0] - gcBefore[0], gcAfter[1] - gcBefore[1]);
        long bound = System.nanoTime() + deadlineNanos + 15_000_000_000L;
        while (inFlight.get() > 0 && System.nanoTime() - bound < 0) {
            Thread.sleep(20); // waiting for the last calls to end, not timing anything
        }
        if (inFlight.get() > 0) {
            System.err.println("[lab] " + inFlight.get() + " calls still running after the bound; the next run starts anyway");
        }
        if (server.fault() != LabServer.Fault.NONE) {
            try {
                server.fault(LabServer.Fault.NONE);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("could not bring the dependency back", e);
            }
        }
        if (!server.awaitIdle(120_000_000_000L)) {
            System.err.println("[lab] the dependency's queue did not drain within 120 s");
        }
        server.stats(null);
        server.inboundLimit(null);
        return stats;
    }

    /** Collections so far and their accumulated time (ms), over every collector of this JVM. */
    private static long[] gc() {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, b.getCollectionCount());
            millis += Math.max(0, b.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    private void schedule(long atNanos, LabServer.Fault fault) {
        faults.schedule(() -> {
            try {
                server.fault(fault);
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("[lab] could not switch the fault to " + fault + ": " + e);
            }
        }, atNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    private void call(Setup setup, RunStats stats, long intended) {
        try {
            long started = System.nanoTime();
            stats.started(intended, started);
            Outcome o;
            LabHttp.resetCallAttempts();
            try {
                o = setup.call(intended + deadlineNanos);
            } catch (RuntimeException e) { // a setup's bug must not stop the run; counted as an error
                o = Outcome.ERROR;
            }
            long ended = System.nanoTime();
            if (o == Outcome.OK && ended - intended > deadlineNanos) {
                o = Outcome.LATE;
            }
            stats.outcome(intended, started, ended, o, LabHttp.callAttempts());
        } finally {
            inFlight.decrementAndGet();
        }
    }

    @Override
    public void close() {
        callers.shutdownNow();
        faults.shutdownNow();
    }
}
