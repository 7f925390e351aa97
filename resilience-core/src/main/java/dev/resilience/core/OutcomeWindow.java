package dev.resilience.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

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

    final int minCalls;
    final double failureRateThreshold;
    final double slowRateThreshold;

    OutcomeWindow(int minCalls, double failureRateThreshold, double slowRateThreshold) {
        this.minCalls = minCalls;
        this.failureRateThreshold = failureRateThreshold;
        this.slowRateThreshold = slowRateThreshold;
    }

    /** Records one outcome ({@link #FAILED} and {@link #SLOW} bits) at ticker time {@code now}. */
    abstract void record(int outcome, long now);

    /** Calls, failures and slow calls in the window at {@code now}. */
    abstract long[] totals(long now);

    /** Whether the window's rates call for a trip at {@code now}. */
    final boolean exceeded(long now) {
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

        CountBased(int size, int minCalls, double failureRateThreshold, double slowRateThreshold) {
            super(minCalls, failureRateThreshold, slowRateThreshold);
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
            return new long[] {Math.min(sequence.get(), ring.length), failures.get(), slow.get()};
        }

        /** Outcomes recorded since the window was made. */
        long recorded() {
            return sequence.get();
        }
    }

    /**
     * The last {@code buckets} periods of {@code bucketNanos}. A bucket is reset when time comes
     * round to it again; outcomes recorded by another thread in the instant of that reset may be
     * lost, so the counts are exact only without concurrent rollover.
     */
    static final class TimeBased extends OutcomeWindow {
        private final long bucketNanos;
        private final int buckets;
        private final AtomicLongArray epochs;
        private final AtomicLongArray calls;
        private final AtomicLongArray failures;
        private final AtomicLongArray slow;

        TimeBased(int buckets, long bucketNanos, int minCalls, double failureRateThreshold, double slowRateThreshold,
                long now) {
            super(minCalls, failureRateThreshold, slowRateThreshold);
            this.buckets = buckets;
            this.bucketNanos = bucketNanos;
            this.epochs = new AtomicLongArray(buckets);
            this.calls = new AtomicLongArray(buckets);
            this.failures = new AtomicLongArray(buckets);
            this.slow = new AtomicLongArray(buckets);
            long epoch = Math.floorDiv(now, bucketNanos);
            for (int i = 0; i < buckets; i++) {
                epochs.set(i, Long.MIN_VALUE);
            }
            epochs.set((int) Math.floorMod(epoch, (long) buckets), epoch);
            this.cursor = new Cursor(epoch, bucketNanos, buckets);
        }

        /** The bucket the last recording fell in, so most recordings need no division. */
        private static final class Cursor {
            final long epoch;
            final long start;
            final int index;

            Cursor(long epoch, long bucketNanos, int buckets) {
                this.epoch = epoch;
                this.start = epoch * bucketNanos;
                this.index = (int) Math.floorMod(epoch, (long) buckets);
            }
        }

        private volatile Cursor cursor;

        @Override
        void record(int outcome, long now) {
            Cursor c = cursor;
            long offset = now - c.start;
            if (offset < 0 || offset >= bucketNanos) {
                c = new Cursor(Math.floorDiv(now, bucketNanos), bucketNanos, buckets);
                cursor = c;
            }
            long epoch = c.epoch;
            int i = c.index;
            long e = epochs.get(i);
            if (e != epoch) {
                if (epoch - e < 0 && e != Long.MIN_VALUE) {
                    return;
                }
                if (epochs.compareAndSet(i, e, epoch)) {
                    calls.set(i, 0);
                    failures.set(i, 0);
                    slow.set(i, 0);
                }
            }
            calls.incrementAndGet(i);
            if ((outcome & FAILED) != 0) {
                failures.incrementAndGet(i);
            }
            if ((outcome & SLOW) != 0) {
                slow.incrementAndGet(i);
            }
        }

        @Override
        long[] totals(long now) {
            long epoch = Math.floorDiv(now, bucketNanos);
            long[] t = new long[3];
            for (int i = 0; i < buckets; i++) {
                long e = epochs.get(i);
                if (e != Long.MIN_VALUE && epoch - e >= 0 && epoch - e < buckets) {
                    t[0] += calls.get(i);
                    t[1] += failures.get(i);
                    t[2] += slow.get(i);
                }
            }
            return t;
        }
    }
}
