package dev.resilience.benchmarks.lab;

import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.AtomicHistogram;
import org.HdrHistogram.Histogram;

/**
 * What one run measured, per second of the run. Client-side counts are filed under the second of
 * the call's <em>intended</em> send time (its place in the schedule), so a second's goodput is what
 * happened to the calls that second offered; attempts under the second in which they were sent;
 * the dependency's counts under the second in which the event happened (a request's busy time, and
 * whether it was wasted, under the second the request arrived, so that a window's busy time is the
 * work done for the requests of that window, however late it ran). Latencies are in microseconds, from the intended send time (wrk2's
 * correction for coordinated omission), in HdrHistograms with 2 significant digits (1 % resolution);
 * lags in nanoseconds.
 */
final class RunStats {

    /** How a call ended, as the caller sees it. */
    enum Outcome {
        /** A 2xx within the deadline: goodput. */
        OK,
        /** A 2xx after the deadline: the caller had given up, not goodput. */
        LATE,
        /** A failing status or a connection error. */
        ERROR,
        /** The deadline (or a per-attempt timeout on the last attempt) ended the call. */
        TIMEOUT,
        /** A local guard refused the call: its first attempt, or a retry after failed attempts. */
        REFUSED
    }

    private static final long MAX_MICROS = 120_000_000L;
    private static final long MAX_NANOS = 60_000_000_000L;

    final long startNanos;
    final int seconds;
    final AtomicLongArray offered;
    final AtomicLongArray[] outcomes = new AtomicLongArray[Outcome.values().length];
    final AtomicLongArray attempts;
    /** Calls that sent at least one attempt, under their intended second. */
    final AtomicLongArray sent;
    /** The attempts of those calls, under the call's intended second (not the attempt's). */
    final AtomicLongArray sentAttempts;
    /** The largest dispatch lag of each second (ns): when the generator fell behind. */
    final AtomicLongArray maxDispatchLag;
    /** The largest concurrency limit the client's adaptive limiter had in each second; 0 when the setup has none. */
    final AtomicLongArray maxClientLimit;
    /** Calls the lab's own caller pool could not take (it was full): counted, never silently lost. */
    final AtomicLongArray overflow;
    final AtomicLongArray serverReceived;
    final AtomicLongArray serverBusyNanos;
    final AtomicLongArray serverWastedNanos;
    final AtomicLongArray serverDropped;
    final AtomicLongArray serverShed;
    final AtomicLongArray serverFailed;
    /** Arrivals whose connection closed before a request was read (no handler ran). */
    final AtomicLongArray serverUnread;
    /** Latency of successful calls (OK), per second. */
    final AtomicHistogram[] okMicros;
    /** Latency of every call but the local refusals that sent nothing, whatever its outcome, per second. */
    final AtomicHistogram[] answeredMicros;
    /**
     * Latency of local refusals that sent nothing (the guard said no before any attempt), the whole
     * run, from the moment the caller thread started the call (what the guard costs; the lab's own
     * hand-off is {@link #startLagNanos}). A call refused on a retry, after attempts, is counted as
     * refused but its latency goes with the answered calls'.
     */
    final AtomicHistogram refusedMicros = new AtomicHistogram(MAX_MICROS, 2);
    /**
     * The same refusals from the call's intended send time, as its client sees them: the guard's
     * answer plus the lab's own hand-off to a caller thread ({@link #startLagNanos}).
     */
    final AtomicHistogram refusedFromIntendedMicros = new AtomicHistogram(MAX_MICROS, 2);
    /** The generator's own lag: when it handed the call to a caller thread minus the intended time. */
    final AtomicHistogram dispatchLagNanos = new AtomicHistogram(MAX_NANOS, 2);
    /** When a caller thread started the call minus the intended time (includes the hand-off). */
    final AtomicHistogram startLagNanos = new AtomicHistogram(MAX_NANOS, 2);

    /**
     * @param scheduleSeconds the seconds of the schedule (every call is filed under one of them)
     * @param seconds the seconds kept for counters: the schedule and a tail for late answers and the
     *     dependency's drain
     */
    /** Garbage collections of the lab's JVM while the schedule ran, and their time (ms). */
    volatile long gcCount;
    volatile long gcMillis;

    RunStats(long startNanos, int scheduleSeconds, int seconds) {
        this.startNanos = startNanos;
        this.seconds = seconds;
        offered = new AtomicLongArray(seconds);
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new AtomicLongArray(seconds);
        }
        attempts = new AtomicLongArray(seconds);
        sent = new AtomicLongArray(seconds);
        sentAttempts = new AtomicLongArray(seconds);
        maxDispatchLag = new AtomicLongArray(seconds);
        maxClientLimit = new AtomicLongArray(seconds);
        overflow = new AtomicLongArray(seconds);
        serverReceived = new AtomicLongArray(seconds);
        serverBusyNanos = new AtomicLongArray(seconds);
        serverWastedNanos = new AtomicLongArray(seconds);
        serverDropped = new AtomicLongArray(seconds);
        serverShed = new AtomicLongArray(seconds);
        serverFailed = new AtomicLongArray(seconds);
        serverUnread = new AtomicLongArray(seconds);
        okMicros = new AtomicHistogram[scheduleSeconds];
        answeredMicros = new AtomicHistogram[scheduleSeconds];
        for (int i = 0; i < scheduleSeconds; i++) {
            okMicros[i] = new AtomicHistogram(MAX_MICROS, 2);
            answeredMicros[i] = new AtomicHistogram(MAX_MICROS, 2);
        }
    }

    /** The second of the run {@code nanos} falls in, clamped to the arrays. */
    int second(long nanos) {
        long s = (nanos - startNanos) / 1_000_000_000L;
        return (int) Math.max(0, Math.min(seconds - 1, s));
    }

    void offered(long intended, long dispatched, int clientLimit) {
        int s = second(intended);
        if (clientLimit > maxClientLimit.get(s)) {
            maxClientLimit.set(s, clientLimit); // only the generator thread writes it
        }
        offered.incrementAndGet(s);
        long lag = clamp(dispatched - intended, MAX_NANOS);
        dispatchLagNanos.recordValue(lag);
        if (lag > maxDispatchLag.get(s)) {
            maxDispatchLag.set(s, lag); // only the generator thread writes it
        }
    }

    void gcDuringSchedule(long count, long millis) {
        this.gcCount = count;
        this.gcMillis = millis;
    }

    void overflow(long intended) {
        overflow.incrementAndGet(second(intended));
    }

    void started(long intended, long started) {
        startLagNanos.recordValue(clamp(started - intended, MAX_NANOS));
    }

    /**
     * Files a call's outcome; {@code ended - intended} is its latency, {@code ended - started} also
     * that of a refusal before any attempt ({@code callAttempts == 0}).
     */
    void outcome(long intended, long started, long ended, Outcome outcome, int callAttempts) {
        int s = second(intended);
        outcomes[outcome.ordinal()].incrementAndGet(s);
        if (callAttempts > 0) {
            sent.incrementAndGet(s);
            sentAttempts.addAndGet(s, callAttempts);
        }
        if (outcome == Outcome.REFUSED && callAttempts == 0) {
            refusedMicros.recordValue(clamp((ended - started) / 1_000L, MAX_MICROS));
            refusedFromIntendedMicros.recordValue(clamp((ended - intended) / 1_000L, MAX_MICROS));
            return;
        }
        long micros = clamp((ended - intended) / 1_000L, MAX_MICROS);
        int h = Math.min(s, okMicros.length - 1);
        answeredMicros[h].recordValue(micros);
        if (outcome == Outcome.OK) {
            okMicros[h].recordValue(micros);
        }
    }

    void attempt(long sent) {
        attempts.incrementAndGet(second(sent));
    }

    void serverReceived(long at) {
        serverReceived.incrementAndGet(second(at));
    }

    void serverBusy(long at, long busyNanos, boolean wasted) {
        int s = second(at);
        serverBusyNanos.addAndGet(s, busyNanos);
        if (wasted) {
            serverWastedNanos.addAndGet(s, busyNanos);
        }
    }

    void serverDropped(long at) {
        serverDropped.incrementAndGet(second(at));
    }

    void serverShed(long at) {
        serverShed.incrementAndGet(second(at));
    }

    void serverUnread(long at) {
        serverUnread.incrementAndGet(second(at));
    }

    void serverFailed(long at) {
        serverFailed.incrementAndGet(second(at));
    }

    long count(Outcome o, int second) {
        return outcomes[o.ordinal()].get(second);
    }

    /** Sum of {@code a} over seconds [from, to). */
    static long sum(AtomicLongArray a, int from, int to) {
        long t = 0;
        for (int i = Math.max(0, from); i < Math.min(a.length(), to); i++) {
            t += a.get(i);
        }
        return t;
    }

    long sum(Outcome o, int from, int to) {
        return sum(outcomes[o.ordinal()], from, to);
    }

    /** The per-second histograms of seconds [from, to), merged. */
    static Histogram merged(AbstractHistogram[] perSecond, int from, int to) {
        Histogram h = new Histogram(MAX_MICROS, 2);
        for (int i = Math.max(0, from); i < Math.min(perSecond.length, to); i++) {
            h.add(perSecond[i]);
        }
        return h;
    }

    private static long clamp(long v, long max) {
        return Math.max(0, Math.min(max, v));
    }
}
