package dev.resilience.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Left padding: keeps the contended {@code tat} off the cache lines of neighbouring objects. */
abstract class RateLimiterStatePadLeft {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The one contended word: the GCRA theoretical arrival time, in ticker nanoseconds. */
abstract class RateLimiterStateTat extends RateLimiterStatePadLeft {
    static final VarHandle TAT;

    static {
        try {
            TAT = MethodHandles.lookup().findVarHandle(RateLimiterStateTat.class, "tat", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile long tat;
}

/** Right padding. */
abstract class RateLimiterStatePadRight extends RateLimiterStateTat {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/**
 * One configuration of a {@link RateLimiter} with its arrival time. Replaced as a whole by
 * {@code setRate}/{@code setBurst}, which first retire the old one by swapping its {@code tat} to
 * {@link #RETIRED}; acquisitions that meet a retired state re-read the limiter's current one.
 */
final class RateLimiterState extends RateLimiterStatePadRight {
    static final long RETIRED = Long.MIN_VALUE;

    /** Nanoseconds per permit; 0 for an infinite rate and for a zero rate (both kept off the hot path). */
    final long interval;
    /** {@code burst * interval}: how far ahead of now the arrival time may run. */
    final long tolerance;
    final int burst;
    /**
     * Rate 0 (Go's {@code Limit(0)}): nothing refills; {@code tat} then holds the whole permits
     * left, taken by CAS.
     */
    final boolean zero;

    RateLimiterState(long interval, int burst, long tat) {
        this(interval, burst, tat, false);
    }

    private RateLimiterState(long interval, int burst, long tat, boolean zero) {
        this.interval = interval;
        this.burst = burst;
        this.tolerance = interval * burst;
        this.tat = tat;
        this.zero = zero;
    }

    /** A zero-rate state holding {@code permitsLeft} permits. */
    static RateLimiterState zeroRate(int burst, long permitsLeft) {
        return new RateLimiterState(0L, burst, Math.max(0L, Math.min(permitsLeft, burst)), true);
    }

    /** Infinite or zero rate: not a GCRA bucket; the callers' rare branch handles it. */
    boolean infinite() {
        return interval == 0;
    }
}
