package dev.resilience.benchmarks.lab;

import dev.resilience.core.LimitAlgorithm;

/**
 * A lab-only Vegas variant (run lab-2026-12-03-n, setup {@code ours-gs24}): it grows the limit over
 * a window of samples, judging the queue from their mean round trip as
 * {@code LimitAlgorithm.vegas(..., sampleWindow)} does, but shrinks it on each sample whose own
 * estimated queue is above {@code beta x log10(limit)}, and on each drop, as per-call Vegas does. Not
 * library API: an experiment on whether keeping per-call Vegas' fast fall keeps a window's steady
 * limit without losing a sudden latency jump. Not thread-safe: the limiter serialises updates.
 */
final class GrowSlowVegas implements LimitAlgorithm {
    private final int initialLimit;
    private final int min;
    private final int max;
    private final double alpha;
    private final double beta;
    private final int window;
    private long rttNoLoad = Long.MAX_VALUE;
    private double estimate;
    private long sum;
    private int count;
    private int mostInFlight;

    GrowSlowVegas(int initialLimit, int min, int max, double alpha, double beta, int window) {
        this.initialLimit = initialLimit;
        this.min = min;
        this.max = max;
        this.alpha = alpha;
        this.beta = beta;
        this.window = window;
        this.estimate = initialLimit;
    }

    @Override
    public int initialLimit() {
        return initialLimit;
    }

    @Override
    public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
        double current = estimate;
        double log = Math.max(1.0, Math.log10(current));
        if (dropped) {
            return shrink(current - log);
        }
        if (rttNanos <= 0) {
            return limit;
        }
        if (rttNanos < rttNoLoad) {
            rttNoLoad = rttNanos;
            return limit;
        }
        boolean busy = inFlight >= current / 2;
        if (busy && Math.ceil(current * (1.0 - (double) rttNoLoad / rttNanos)) > beta * log) {
            return shrink(current - log);
        }
        long s = sum + rttNanos;
        sum = s < 0 ? Long.MAX_VALUE : s;
        mostInFlight = Math.max(mostInFlight, inFlight);
        if (++count < window) {
            return limit;
        }
        long mean = sum / count;
        boolean windowBusy = mostInFlight >= current / 2;
        sum = 0;
        count = 0;
        mostInFlight = 0;
        if (!windowBusy) {
            return limit;
        }
        double queue = Math.ceil(current * (1.0 - (double) rttNoLoad / mean));
        if (queue <= log) {
            return set(current + beta * log);
        } else if (queue < alpha * log) {
            return set(current + log);
        }
        return limit;
    }

    private int shrink(double next) {
        sum = 0;
        count = 0;
        mostInFlight = 0;
        return set(next);
    }

    private int set(double next) {
        estimate = Math.max(min, Math.min(max, next));
        return (int) estimate;
    }

    @Override
    public String toString() {
        return "GrowSlowVegas[" + min + ".." + max + ", alpha " + alpha + ", beta " + beta + ", window " + window + "]";
    }
}
