package dev.resilience.benchmarks.lab;

import dev.resilience.benchmarks.lab.RunStats.Outcome;
import org.HdrHistogram.Histogram;

/**
 * The figures of one run, computed from its {@link RunStats}, and whether the goal for the
 * scenario held. Windows are whole seconds of the schedule: the fault window is
 * [faultStart, faultEnd), "after" is [faultEnd, duration); for {@code d} the "hold" window is the
 * seconds at 3 C, [holdStart, duration). Percentiles and amplification are over the window only
 * (since 2026-12-03; before, percentiles ran from the fault's start to the run's end, so the healthy
 * seconds after a fault diluted them). The wasted share is over the same window: the dependency's
 * busy time is filed under each request's arrival second, so it is the work done for the requests
 * that arrived in the window, however late it ran.
 *
 * <p><b>Recovery</b> (scenarios with a fault): the number of whole seconds from the end of the fault
 * to the first second s such that s and the two seconds after it each have goodput (calls offered
 * in that second that succeeded within D) of at least 95 % of min(calls offered in that second,
 * measured C). 0 means the first second after the fault already met the bar; -1 means it was not
 * reached within the run (reported as "&gt; n s").
 */
final class RunResult {

    final String scenario;
    final String setup;
    final int rep;
    final int seconds;
    /** Mean goodput (calls/s) over the fault window, or over the hold window for {@code d}. */
    final double goodputFault;
    /** Mean goodput over the seconds after the fault (for {@code d}: the whole run). */
    final double goodputAfter;
    /** Share of the calls offered in the fault (hold) window that succeeded within D. */
    final double successRate;
    /** p50 and p99 (ms) of successful calls offered in the fault window (d: the hold window). */
    final double okP50Ms;
    final double okP99Ms;
    /** p99 (ms) of successful calls offered after the fault; NaN without a fault. */
    final double okP99AfterMs;
    /** p99 (ms) of every call not refused locally (admitted), whatever its outcome, same window. */
    final double answeredP99Ms;
    /**
     * Attempts sent to the dependency per call offered, over the fault (hold) window: the issue's
     * "dependency requests / client requests". A call refused locally counts with 0 attempts, so a
     * setup that refuses much looks frugal by it; read it with {@link #amplificationSent}.
     */
    final double amplification;
    /** Attempts per call that sent at least one attempt (the calls admitted), same window: the retries' own cost. */
    final double amplificationSent;
    /** Requests the dependency received per call offered, over the fault (hold) window. */
    final double serverAmplification;
    /** Wasted busy time as a share of all busy time of the dependency, for the requests that arrived in the window. */
    final double wastedShare;
    /** The same over the whole run and its drain (the figure reported before 2026-12-03). */
    final double wastedShareRun;
    final long refused;
    /**
     * p99 (ms) of local refusals before any attempt over the whole run, from the caller thread's
     * start of the call; NaN when there were none.
     */
    final double refusedP99Ms;
    /** The same refusals' p99 (ms) from the call's intended send time (adds the lab's own hand-off). */
    final double refusedFromIntendedP99Ms;
    /** Seconds to recover after the fault (see the class comment); -1 if not within the run; -2 for no fault. */
    final int recovery;
    /** The generator's dispatch lag and the caller threads' start lag, p99.9, in ms. */
    final double dispatchLagP999Ms;
    final double startLagP999Ms;
    final long overflow;
    /** The lab JVM's garbage collections during the schedule and their total time (ms): a cause of lag. */
    final long gcCount;
    final long gcMillis;
    /** The latest recovery the run could observe (three seconds must follow it). */
    final int lastCheckable;
    final boolean goalMet;
    final String goal;
    /** Calls offered and calls successful within D, per second of the schedule (for the charts). */
    final long[] offeredPerSecond;
    final long[] okPerSecond;

    RunResult(Scenario sc, String setup, int rep, RunStats st, double capacity, double unloadedP99Ms, long deadlineMs) {
        this.scenario = sc.name;
        this.setup = setup;
        this.rep = rep;
        this.seconds = sc.duration;
        int from;
        int to;
        if (sc.hasFault()) {
            from = sc.faultStart;
            to = sc.faultEnd;
        } else {
            from = sc.holdStart();
            to = sc.duration;
        }
        long offeredW = RunStats.sum(st.offered, from, to);
        long okW = st.sum(Outcome.OK, from, to);
        goodputFault = (double) okW / (to - from);
        int afterFrom = sc.hasFault() ? sc.faultEnd : 0;
        goodputAfter = (double) st.sum(Outcome.OK, afterFrom, sc.duration) / (sc.duration - afterFrom);
        successRate = offeredW == 0 ? Double.NaN : (double) okW / offeredW;
        Histogram ok = RunStats.merged(st.okMicros, from, to);
        okP50Ms = ok.getTotalCount() == 0 ? Double.NaN : ok.getValueAtPercentile(50) / 1000.0;
        okP99Ms = ok.getTotalCount() == 0 ? Double.NaN : ok.getValueAtPercentile(99) / 1000.0;
        Histogram okAfter = RunStats.merged(st.okMicros, sc.hasFault() ? sc.faultEnd : sc.duration, sc.duration);
        okP99AfterMs = okAfter.getTotalCount() == 0 ? Double.NaN : okAfter.getValueAtPercentile(99) / 1000.0;
        Histogram answered = RunStats.merged(st.answeredMicros, from, to);
        answeredP99Ms = answered.getTotalCount() == 0 ? Double.NaN : answered.getValueAtPercentile(99) / 1000.0;
        amplification = offeredW == 0 ? Double.NaN : (double) RunStats.sum(st.attempts, from, to) / offeredW;
        long sentW = RunStats.sum(st.sent, from, to);
        amplificationSent = sentW == 0 ? Double.NaN : (double) RunStats.sum(st.sentAttempts, from, to) / sentW;
        serverAmplification = offeredW == 0 ? Double.NaN
                : (double) RunStats.sum(st.serverReceived, from, to) / offeredW;
        long busyW = RunStats.sum(st.serverBusyNanos, from, to);
        wastedShare = busyW == 0 ? 0 : (double) RunStats.sum(st.serverWastedNanos, from, to) / busyW;
        long busy = RunStats.sum(st.serverBusyNanos, 0, st.seconds);
        wastedShareRun = busy == 0 ? 0 : (double) RunStats.sum(st.serverWastedNanos, 0, st.seconds) / busy;
        refused = st.sum(Outcome.REFUSED, 0, sc.duration);
        refusedP99Ms = st.refusedMicros.getTotalCount() == 0 ? Double.NaN
                : st.refusedMicros.getValueAtPercentile(99) / 1000.0;
        refusedFromIntendedP99Ms = st.refusedFromIntendedMicros.getTotalCount() == 0 ? Double.NaN
                : st.refusedFromIntendedMicros.getValueAtPercentile(99) / 1000.0;
        recovery = sc.hasFault() ? recovery(st, sc, capacity) : -2;
        dispatchLagP999Ms = st.dispatchLagNanos.getValueAtPercentile(99.9) / 1e6;
        startLagP999Ms = st.startLagNanos.getValueAtPercentile(99.9) / 1e6;
        overflow = RunStats.sum(st.overflow, 0, st.seconds);
        lastCheckable = sc.duration - 3 - sc.faultEnd;
        gcCount = st.gcCount;
        gcMillis = st.gcMillis;
        offeredPerSecond = new long[sc.duration];
        okPerSecond = new long[sc.duration];
        for (int s = 0; s < sc.duration; s++) {
            offeredPerSecond[s] = st.offered.get(s);
            okPerSecond[s] = st.count(Outcome.OK, s);
        }

        switch (sc.name) {
            case "a":
                goalMet = amplification <= 1.2 && amplificationSent <= 1.2;
                goal = "amplification <= 1.2 per call offered and per call sent (refusing calls lowers the first,"
                        + " not the second; read both with the success rate)";
                break;
            case "a15":
                goalMet = amplification <= 1.1 && amplificationSent <= 1.1;
                goal = "amplification <= 1.1 per call offered and per call sent (refusing calls lowers the first,"
                        + " not the second; read both with the success rate)";
                break;
            case "b":
                goalMet = wastedShare <= 0.05 && answeredP99Ms <= deadlineMs;
                goal = "wasted <= 5 % of the dependency's busy time for requests that arrived in the fault window,"
                        + " and p99 of answered calls offered in the fault window <= D";
                break;
            case "c":
                goalMet = recovery >= 0 && recovery <= 2;
                goal = "recovered within 2 s";
                break;
            case "d":
                goalMet = goodputFault >= 0.9 * capacity && answeredP99Ms <= 2 * unloadedP99Ms
                        && (refused == 0 || refusedP99Ms < 1.0);
                goal = "at 3 C: goodput >= 0.9 C, p99 of admitted calls (not refused locally) <= 2x unloaded p99,"
                        + " local refusals p99 < 1 ms (from the caller thread's start)";
                break;
            default:
                if (sc.isGridCell()) {
                    goalMet = recovery >= 0;
                    goal = "no metastable state: goodput back to 95 % of min(offered, C) before the run ends";
                    break;
                }
                goalMet = false;
                goal = "none";
        }
    }

    private static int recovery(RunStats st, Scenario sc, double capacity) {
        for (int s = sc.faultEnd; s + 2 < sc.duration; s++) {
            boolean all = true;
            for (int k = s; k < s + 3; k++) {
                double bar = 0.95 * Math.min(st.offered.get(k), capacity);
                if (st.count(Outcome.OK, k) < bar) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return s - sc.faultEnd;
            }
        }
        return -1;
    }

    /** The recovery for a table: seconds, "&gt; n s" if not reached, "-" without a fault. */
    String recoveryText() {
        if (recovery == -2) {
            return "-";
        }
        return recovery < 0 ? "> " + lastCheckable + " s" : recovery + " s";
    }

    /** A one-line summary for the console. */
    String line() {
        return String.format("%-4s %-16s rep %d: goodput %.1f/s (%.0f %% ok), after %.1f/s, ok p50/p99 %.1f/%.1f ms,"
                        + " answered p99 %.1f ms, amplification %.2f (per sent %.2f, server %.2f), wasted %.1f %%"
                        + " (run %.1f %%), refused %d (p99 %.3f ms, from intended %.3f ms), recovery %s,"
                        + " lag p99.9 dispatch %.3f ms start %.3f ms (gc %d, %d ms)%s, goal %s",
                scenario, setup, rep, goodputFault, 100 * successRate, goodputAfter, okP50Ms, okP99Ms, answeredP99Ms,
                amplification, amplificationSent, serverAmplification, 100 * wastedShare, 100 * wastedShareRun,
                refused, refusedP99Ms, refusedFromIntendedP99Ms, recoveryText(),
                dispatchLagP999Ms, startLagP999Ms, gcCount, gcMillis, overflow > 0 ? ", OVERFLOW " + overflow : "",
                goalMet ? "met" : "not met");
    }
}
