package dev.resilience.core;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * gobreaker v2's rolling window for a CLOSED breaker's totals: {@code interval} split into buckets
 * of {@code bucketPeriod}; a bucket's counts are dropped when time comes round to it again. As in
 * {@link OutcomeWindow.TimeBased}, an outcome recorded by another thread in the instant of a bucket's
 * reset may be lost.
 */
final class RollingCounts {
    static final int SUCCESS = 0;
    static final int FAILURE = 1;
    static final int EXCLUSION = 2;

    private final long bucketNanos;
    private final int buckets;
    private final AtomicLongArray epochs;
    /** Three counters per bucket: successes, failures, exclusions. */
    private final AtomicLongArray counts;

    RollingCounts(long intervalNanos, long bucketNanos, long now) {
        this.bucketNanos = bucketNanos;
        this.buckets = (int) (intervalNanos / bucketNanos);
        this.epochs = new AtomicLongArray(buckets);
        this.counts = new AtomicLongArray(3 * buckets);
        for (int i = 0; i < buckets; i++) {
            epochs.set(i, Long.MIN_VALUE);
        }
    }

    void record(int kind, long now) {
        long epoch = Math.floorDiv(now, bucketNanos);
        int i = (int) Math.floorMod(epoch, (long) buckets);
        long e = epochs.get(i);
        if (e != epoch) {
            if (e != Long.MIN_VALUE && epoch - e < 0) {
                return;
            }
            if (epochs.compareAndSet(i, e, epoch)) {
                counts.set(3 * i, 0);
                counts.set(3 * i + 1, 0);
                counts.set(3 * i + 2, 0);
            }
        }
        counts.incrementAndGet(3 * i + kind);
    }

    /** Successes, failures and exclusions within the interval ending at {@code now}. */
    long[] totals(long now) {
        long epoch = Math.floorDiv(now, bucketNanos);
        long[] t = new long[3];
        for (int i = 0; i < buckets; i++) {
            long e = epochs.get(i);
            if (e != Long.MIN_VALUE && epoch - e >= 0 && epoch - e < buckets) {
                t[0] += counts.get(3 * i);
                t[1] += counts.get(3 * i + 1);
                t[2] += counts.get(3 * i + 2);
            }
        }
        return t;
    }
}
