package dev.resilience.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A sliding window of call outcomes for the failure-rate and slow-call-rate trips of a
 * {@link CircuitBreaker}, count-based (the last N calls) or time-based (the last N bucket periods).
 * Recording a success on the count-based window is one atomic increment and, when the slot's old
 * outcome differs, one atomic swap; nothing is summed until a failure or slow call asks whether to
 * trip.
 */
abstract class OutcomeWindow {
    static final int FAILED = 1;
    static final int SLOW = 2;

    /** Records one outcome ({@link #FAILED} and {@link #SLOW} bits) at ticker time {@code now}. */
    abstract void record(int outcome, long now);

    /** Calls, failures and slow calls in the window at {@code now}. */
    abstract long[] totals(long now);

    /**
     * Whether the window's rates call for a trip at {@code now}: once it holds {@code minCalls}, a
     * share of failures or slow calls at or above its threshold (above 100: off). The breaker passes
     * the thresholds in force, which a reload may change while the window lives.
     */
    boolean exceeded(long now, int minCalls, double failureRateThreshold, double slowRateThreshold) {
        long[] t = totals(now);
        long calls = t[0];
        if (calls < minCalls || calls == 0) {
            return false;
        }
        return failureRateThreshold <= 100.0 && t[1] * 100.0 / calls >= failureRateThreshold
                || slowRateThreshold <= 100.0 && t[2] * 100.0 / calls >= slowRateThreshold;
    }

    /** The last {@code size} calls. */
    static final class CountBased extends OutcomeWindow {
        private static final VarHandle RING = MethodHandles.arrayElementVarHandle(int[].class);

        private final int[] ring;
        private final PaddedSequence sequence = new PaddedSequence();
        private final AtomicInteger failures = new AtomicInteger();
        private final AtomicInteger slow = new AtomicInteger();

        CountBased(int size) {
            this.ring = new int[size];
        }

        @Override
        void record(int outcome, long now) {
            long s = sequence.getAndIncrement();
            int i = (int) (s % ring.length);
            if ((int) RING.getOpaque(ring, i) == outcome) {
                return;
            }
            int old = (int) RING.getAndSet(ring, i, outcome);
            int changed = old ^ outcome;
            if ((changed & FAILED) != 0) {
                failures.addAndGet((outcome & FAILED) != 0 ? 1 : -1);
            }
            if ((changed & SLOW) != 0) {
                slow.addAndGet((outcome & SLOW) != 0 ? 1 : -1);
            }
        }

        @Override
        long[] totals(long now) {
            // failures and slow calls first: while the ring is filling, an outcome recorded while these
            // are read can then only lower the shares (once it is full, the counters move both ways)
            long f = failures.get();
            long s = slow.get();
            return new long[] {Math.min(sequence.get(), ring.length), f, s};
        }

        /** Outcomes recorded since the window was made. */
        long recorded() {
            return sequence.get();
        }
    }

    /** The last {@code buckets} periods of {@code bucketNanos}; see {@link TimeBuckets}. */
    static final class TimeBased extends OutcomeWindow {
        private static final int CALLS = 0;
        private static final int FAILURES = 1;
        private static final int SLOW_CALLS = 2;

        private final TimeBuckets buckets;

        TimeBased(int buckets, long bucketNanos, long now) {
            this.buckets = new TimeBuckets(buckets, bucketNanos, 3, now);
        }

        @Override
        void record(int outcome, long now) {
            // one increment for all three: a slow call is never counted without its call
            buckets.increment(now, 1 << CALLS | ((outcome & FAILED) != 0 ? 1 << FAILURES : 0)
                    | ((outcome & SLOW) != 0 ? 1 << SLOW_CALLS : 0));
        }

        @Override
        long[] totals(long now) {
            return buckets.totals(now);
        }

        /**
         * As the base class's, without the array (a failure asks this, and the array escaped: 40
         * bytes per failure), and reading each bucket's failures before its calls: see
         * {@link TimeBuckets#exceeds}.
         */
        @Override
        boolean exceeded(long now, int minCalls, double failureRateThreshold, double slowRateThreshold) {
            return buckets.exceeds(now, CALLS, FAILURES, SLOW_CALLS, minCalls, failureRateThreshold, slowRateThreshold);
        }
    }
}
