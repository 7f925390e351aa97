package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * How an {@link AdaptiveLimiter} moves its concurrency limit from observed round-trip times, in the
 * style of Netflix {@code concurrency-limits}. Implementations are called by one thread at a time
 * (the limiter serialises updates) and may keep state.
 */
public interface LimitAlgorithm {

    /** The limit to start with. */
    int initialLimit();

    /**
     * Returns the new limit after one sample.
     *
     * @param limit the current limit
     * @param rttNanos the sample's round-trip time
     * @param inFlight calls in flight when the sample's call started
     * @param dropped whether the call failed in a way that signals overload (timeout, rejection)
     */
    int update(int limit, long rttNanos, int inFlight, boolean dropped);

    /**
     * Additive increase, multiplicative decrease: +1 after a success while at least half the limit
     * was in use, x{@code backoffRatio} after a drop or a round trip slower than {@code timeout}.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @param backoffRatio in (0, 1): how much of the limit a drop keeps (0.9 in concurrency-limits)
     * @param timeout a round trip slower than this counts as a drop
     */
    static LimitAlgorithm aimd(int initialLimit, int min, int max, double backoffRatio, Duration timeout) {
        checkBounds(initialLimit, min, max);
        if (!(backoffRatio > 0 && backoffRatio < 1)) {
            throw new IllegalArgumentException("backoffRatio must be in (0, 1): " + backoffRatio);
        }
        long timeoutNanos = Checks.positiveNanos(timeout, "timeout");
        return new LimitAlgorithm() {
            @Override
            public int initialLimit() {
                return initialLimit;
            }

            @Override
            public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
                if (dropped || rttNanos > timeoutNanos) {
                    return Math.max(min, (int) (limit * backoffRatio));
                }
                if (inFlight * 2 >= limit) {
                    return Math.min(max, limit + 1);
                }
                return limit;
            }

            @Override
            public String toString() {
                return "AIMD[" + min + ".." + max + ", backoff " + backoffRatio + ", timeout " + timeout + "]";
            }
        };
    }

    /**
     * TCP Vegas applied to concurrency: estimates the queue from the ratio of the lowest round trip
     * seen (no load) to the current one, {@code queue = limit x (1 - rttNoLoad / rtt)}; grows the
     * limit while the queue is short (by log10(limit), or faster when nearly empty), shrinks it by
     * log10(limit) when the queue is long or on a drop.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     */
    static LimitAlgorithm vegas(int initialLimit, int min, int max) {
        checkBounds(initialLimit, min, max);
        return new VegasLimit(initialLimit, min, max);
    }

    private static void checkBounds(int initialLimit, int min, int max) {
        if (min < 1) {
            throw new IllegalArgumentException("min must be at least 1: " + min);
        }
        if (max < min) {
            throw new IllegalArgumentException("max must be at least min: " + max + " < " + min);
        }
        if (initialLimit < min || initialLimit > max) {
            throw new IllegalArgumentException("initialLimit must be within [" + min + ", " + max + "]: " + initialLimit);
        }
    }
}

/** Vegas, after concurrency-limits' {@code VegasLimit}, with its default alpha/beta/threshold functions. */
final class VegasLimit implements LimitAlgorithm {
    private final int initialLimit;
    private final int min;
    private final int max;
    private long rttNoLoad = Long.MAX_VALUE;
    private double estimate;

    VegasLimit(int initialLimit, int min, int max) {
        this.initialLimit = initialLimit;
        this.min = min;
        this.max = max;
        this.estimate = initialLimit;
    }

    @Override
    public int initialLimit() {
        return initialLimit;
    }

    @Override
    public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
        if (rttNanos <= 0) {
            return limit;
        }
        if (rttNanos < rttNoLoad) {
            rttNoLoad = rttNanos;
            return limit;
        }
        double current = estimate;
        double log = Math.max(1.0, Math.log10(current));
        double next;
        if (dropped) {
            next = current - log;
        } else if (inFlight * 2 < current) {
            return limit;
        } else {
            double queue = Math.ceil(current * (1.0 - (double) rttNoLoad / rttNanos));
            double alpha = 3 * log;
            double beta = 6 * log;
            if (queue <= log) {
                next = current + beta;
            } else if (queue < alpha) {
                next = current + log;
            } else if (queue > beta) {
                next = current - log;
            } else {
                return limit;
            }
        }
        estimate = Math.max(min, Math.min(max, next));
        return (int) estimate;
    }

    @Override
    public String toString() {
        return "Vegas[" + min + ".." + max + "]";
    }
}
