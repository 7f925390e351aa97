package dev.resilience.core;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters over the last {@code buckets} periods of {@code bucketNanos}: a ring of buckets, each
 * with {@code width} counters, reset when time comes round to it again. Shared by the breaker's
 * time-based rate window and gobreaker's rolling interval. An increment made by another thread in
 * the instant a bucket is reset is dropped (sums skip a bucket being reset); an increment stamped
 * before the bucket's current period is dropped. Periods are counted from the reading the counters
 * were made with ({@code origin}), not from the ticker's zero, so a ticker whose readings wrap past
 * {@code Long.MAX_VALUE} (a {@code Ticker} may start anywhere) keeps its periods in order.
 */
final class TimeBuckets {
    private static final long EMPTY = Long.MIN_VALUE;
    /**
     * The epoch of a bucket while one thread zeroes its counters for a new period: increments that
     * meet it are dropped and sums skip the bucket. Without it, a thread preempted halfway through
     * zeroing left a bucket with its calls zeroed and its failures not (or the reverse), and a sum
     * could read a failure rate far above the real one: a breaker at 10 % failures tripped.
     */
    private static final long RESETTING = Long.MIN_VALUE + 1;

    private final long bucketNanos;
    /** The reading periods are counted from: period {@code e} starts at {@code origin + e * bucketNanos}. */
    private final long origin;
    private final int buckets;
    private final int width;
    private final AtomicLongArray epochs;
    private final AtomicLongArray counters;
    /** The bucket of the last increment, so that most increments need no division. */
    private volatile Cursor cursor;

    private static final class Cursor {
        final long epoch;
        final long start;
        final int index;

        Cursor(long epoch, long origin, long bucketNanos, int buckets) {
            this.epoch = epoch;
            this.start = origin + epoch * bucketNanos;
            this.index = (int) Math.floorMod(epoch, (long) buckets);
        }
    }

    TimeBuckets(int buckets, long bucketNanos, int width, long now) {
        this.buckets = buckets;
        this.bucketNanos = bucketNanos;
        this.width = width;
        this.epochs = new AtomicLongArray(buckets);
        this.counters = new AtomicLongArray(buckets * width);
        for (int i = 0; i < buckets; i++) {
            epochs.set(i, EMPTY);
        }
        this.origin = now;
        this.cursor = new Cursor(0, now, bucketNanos, buckets);
    }

    /** The period of reading {@code now}: wrap-safe, as readings are compared by their difference. */
    private long epochOf(long now) {
        return Math.floorDiv(now - origin, bucketNanos);
    }

    /**
     * Adds one to each counter {@code k} whose bit {@code 1 << k} is set in {@code counters}, in the
     * bucket of {@code now}, lowest {@code k} first: one check of the bucket's period for all of
     * them, so they are counted or dropped together.
     */
    void increment(long now, int counterBits) {
        Cursor c = cursor;
        long offset = now - c.start;
        if (offset < 0 || offset >= bucketNanos) {
            c = new Cursor(epochOf(now), origin, bucketNanos, buckets);
            cursor = c;
        }
        int i = c.index;
        long e = epochs.get(i);
        if (e != c.epoch) {
            if (e == RESETTING || e != EMPTY && c.epoch - e < 0) {
                return; // being reset, or stamped before the bucket's period: dropped
            }
            if (epochs.compareAndSet(i, e, RESETTING)) {
                try {
                    for (int k = 0; k < width; k++) {
                        counters.set(i * width + k, 0);
                    }
                } finally {
                    epochs.set(i, c.epoch); // never left RESETTING, whatever happens in between
                }
            } else if (epochs.get(i) != c.epoch) {
                return; // another thread is resetting it (or moved it on): dropped
            }
        }
        for (int k = 0, bits = counterBits; bits != 0; k++, bits >>>= 1) {
            if ((bits & 1) != 0) {
                counters.incrementAndGet(i * width + k);
            }
        }
    }

    /** The epoch of bucket {@code i} if it counts in the window ending in period {@code epoch}, else {@link #EMPTY}. */
    private long liveEpoch(int i, long epoch) {
        long e = epochs.get(i);
        return e != EMPTY && e != RESETTING && epoch - e >= 0 && epoch - e < buckets ? e : EMPTY;
    }

    /**
     * Whether, over the window ending at {@code now}, counter {@code failures} (or {@code slow}) is
     * at least {@code failureRate} (or {@code slowRate}) percent of counter {@code calls}, once
     * {@code calls} reaches {@code minCalls}; allocates nothing. Each bucket's {@code failures} and
     * {@code slow} are read before its {@code calls} (which every outcome increments first), and a
     * bucket reset meanwhile is skipped, so outcomes racing with the reading, or a reader preempted
     * halfway, can only make the shares look lower, never higher.
     */
    boolean exceeds(long now, int calls, int failures, int slow, long minCalls, double failureRate, double slowRate) {
        long epoch = epochOf(now);
        long c = 0;
        long f = 0;
        long s = 0;
        for (int i = 0; i < buckets; i++) {
            long e = liveEpoch(i, epoch);
            if (e == EMPTY) {
                continue;
            }
            long bf = counters.get(i * width + failures);
            long bs = counters.get(i * width + slow);
            long bc = counters.get(i * width + calls);
            if (epochs.get(i) != e) {
                continue; // reset for a newer period while it was read
            }
            f += bf;
            s += bs;
            c += bc;
        }
        if (c < minCalls || c == 0) {
            return false;
        }
        return failureRate <= 100.0 && f * 100.0 / c >= failureRate || slowRate <= 100.0 && s * 100.0 / c >= slowRate;
    }

    /**
     * The sums of each counter over the buckets of the window ending at {@code now}. As in
     * {@link #exceeds}, a bucket reset while it is read is skipped, and counter 0 (calls in the rate
     * window, successes in the rolling counts) is read last, so an outcome racing with the reading
     * can only lower the failure share a caller computes from them.
     */
    long[] totals(long now) {
        long epoch = epochOf(now);
        long[] t = new long[width];
        long[] bucket = new long[width];
        for (int i = 0; i < buckets; i++) {
            long e = liveEpoch(i, epoch);
            if (e == EMPTY) {
                continue;
            }
            for (int k = width - 1; k >= 0; k--) {
                bucket[k] = counters.get(i * width + k);
            }
            if (epochs.get(i) != e) {
                continue; // reset for a newer period while it was read
            }
            for (int k = 0; k < width; k++) {
                t[k] += bucket[k];
            }
        }
        return t;
    }
}
