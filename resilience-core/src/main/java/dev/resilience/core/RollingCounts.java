package dev.resilience.core;

/**
 * gobreaker v2's rolling window for a CLOSED breaker's totals: {@code interval} split into buckets
 * of {@code bucketPeriod}; see {@link TimeBuckets} for what rolling over costs in precision.
 */
final class RollingCounts {
    static final int SUCCESS = 0;
    static final int FAILURE = 1;
    static final int EXCLUSION = 2;

    private final TimeBuckets buckets;

    RollingCounts(long intervalNanos, long bucketNanos, long now) {
        this.buckets = new TimeBuckets((int) (intervalNanos / bucketNanos), bucketNanos, 3, now);
    }

    void record(int kind, long now) {
        buckets.increment(now, 1 << kind);
    }

    /** Successes, failures and exclusions within the interval ending at {@code now}. */
    long[] totals(long now) {
        return buckets.totals(now);
    }
}
