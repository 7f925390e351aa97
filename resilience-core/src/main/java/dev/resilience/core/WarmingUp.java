package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The warm-up option of {@link RateLimiter}: Guava's {@code SmoothWarmingUp}. Idle time stores
 * permits (up to {@code maxPermits}, refilled over one warm-up period); a stored permit above the
 * threshold costs more than the stable interval, up to {@code coldFactor} times it, so a cold limiter
 * starts at {@code rate / coldFactor} and ramps up linearly to {@code rate} over the warm-up period.
 * Each grant costs the wait of the <em>next</em> one, as in Guava: no burst.
 *
 * <p>The state is two numbers (stored permits, next free time) swapped as one immutable object by
 * CAS: a grant in warm-up mode allocates one small object. Limiters without warm-up do not.
 */
final class WarmingUp {

    /** One immutable state. */
    record State(double stored, long nextFree) {
    }

    final double stableInterval;
    private final double thresholdPermits;
    private final double maxPermits;
    private final double slope;
    private final double coolDownInterval;
    private final AtomicReference<State> state;

    WarmingUp(long stableIntervalNanos, long warmupNanos, double coldFactor, long now) {
        this.stableInterval = stableIntervalNanos;
        double coldInterval = stableInterval * coldFactor;
        this.thresholdPermits = 0.5 * warmupNanos / stableInterval;
        this.maxPermits = thresholdPermits + 2.0 * warmupNanos / (stableInterval + coldInterval);
        this.slope = (coldInterval - stableInterval) / (maxPermits - thresholdPermits);
        this.coolDownInterval = warmupNanos / maxPermits;
        this.state = new AtomicReference<>(new State(maxPermits, now));
    }

    /**
     * Takes {@code permits} if the wait until they may be used is at most {@code maxWait} (and, when
     * {@code maxWait} is 0, none); returns the time they may be used, or {@code Long.MIN_VALUE}.
     */
    long reserve(int permits, long now, long maxWait) {
        for (;;) {
            State s = state.get();
            double stored = s.stored;
            long nextFree = s.nextFree;
            if (now - nextFree > 0) {
                stored = Math.min(maxPermits, stored + (now - nextFree) / coolDownInterval);
                nextFree = now;
            }
            long wait = nextFree - now;
            if (wait > 0 && wait >= maxWait) {
                return Long.MIN_VALUE;
            }
            double fromStored = Math.min(permits, stored);
            double cost = storedCost(stored, fromStored) + (permits - fromStored) * stableInterval;
            if (wait + Math.ceil(cost) > (double) Checks.MAX_NANOS) {
                return Long.MIN_VALUE; // beyond the 2^62 ns horizon: refused, never wrapped
            }
            State next = new State(stored - fromStored, nextFree + (long) Math.ceil(cost));
            if (state.compareAndSet(s, next)) {
                return nextFree;
            }
        }
    }

    /** Stored permits now; negative (in permits at the stable rate) while the next one lies ahead. */
    double tokens(long now) {
        State s = state.get();
        if (now - s.nextFree >= 0) {
            return Math.min(maxPermits, s.stored + (now - s.nextFree) / coolDownInterval);
        }
        return -(s.nextFree - now) / stableInterval;
    }

    /** Guava's {@code storedPermitsToWaitTime}: the integral of the interval over the permits taken. */
    private double storedCost(double stored, double take) {
        double above = stored - thresholdPermits;
        double cost = 0;
        if (above > 0) {
            double takeAbove = Math.min(above, take);
            cost = takeAbove * (intervalAt(above) + intervalAt(above - takeAbove)) / 2.0;
            take -= takeAbove;
        }
        return cost + stableInterval * take;
    }

    private double intervalAt(double permitsAboveThreshold) {
        return stableInterval + permitsAboveThreshold * slope;
    }
}
