package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The ring of counters behind the breaker's time window and gobreaker's rolling counts, on one thread. */
class TimeBucketsTest {

    @Test
    void oneIncrementCountsEveryCounterItNamesInTheBucketOfItsPeriod() {
        TimeBuckets b = new TimeBuckets(3, 10, 3, 0);
        b.increment(5, 0b111);
        b.increment(15, 0b001);
        b.increment(15, 0b011);
        assertArrayEquals(new long[] {3, 2, 1}, b.totals(15));
        assertArrayEquals(new long[] {1, 1, 1}, b.totals(5), "the window ending in period 0 holds period 0 only");
    }

    @Test
    void aPeriodLeavesTheWindowAndItsBucketIsResetWhenTimeComesRoundToIt() {
        TimeBuckets b = new TimeBuckets(2, 10, 3, 0);
        b.increment(0, 0b011);
        b.increment(10, 0b001);
        assertArrayEquals(new long[] {2, 1, 0}, b.totals(10));
        assertArrayEquals(new long[] {1, 0, 0}, b.totals(20), "period 0 left the window ending in period 2");
        b.increment(20, 0b001); // period 2 reuses period 0's bucket
        assertArrayEquals(new long[] {2, 0, 0}, b.totals(20));
        b.increment(5, 0b011); // stamped before its bucket's period: dropped
        assertArrayEquals(new long[] {2, 0, 0}, b.totals(20));
    }

    @Test
    void theTripCheckNeedsTheMinimumOfCallsAndCountsEitherShare() {
        TimeBuckets b = new TimeBuckets(2, 10, 3, 0);
        b.increment(0, 0b011);
        assertFalse(b.exceeds(0, 0, 1, 2, 2, 50.0, 101.0), "1 call, 2 needed");
        b.increment(0, 0b001);
        assertTrue(b.exceeds(0, 0, 1, 2, 2, 50.0, 101.0), "1 of 2 failed");
        b.increment(0, 0b001);
        assertFalse(b.exceeds(0, 0, 1, 2, 2, 50.0, 101.0), "1 of 3 failed");
        b.increment(0, 0b101);
        assertTrue(b.exceeds(0, 0, 1, 2, 2, 101.0, 25.0), "1 of 4 slow, at 25 %");
    }
}
