package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link LimitAlgorithm#gradient2}, sample by sample: growth while round trips hold, shrinking as
 * they rise beyond the tolerance, bounds, app-limited samples, drops, the long RTT's decay, the queue
 * size function and argument checks. (Through a limiter: {@code AdaptiveLimiterTest}; against
 * concurrency-limits itself: {@link Gradient2ComparisonTest}.)
 */
class Gradient2LimitTest {

    private static final long MS = 1_000_000L;

    /** Feeds {@code n} samples of {@code rttMs} with the whole limit in flight; returns the last limit. */
    private static int busy(LimitAlgorithm a, int limit, int n, long rttMs) {
        return samples(a, limit, n, rttMs, false);
    }

    private static int samples(LimitAlgorithm a, int limit, int n, long rttMs, boolean dropped) {
        int l = limit;
        for (int i = 0; i < n; i++) {
            l = a.update(l, rttMs * MS, l, dropped);
        }
        return l;
    }

    @Test
    void fastRefusalsAreNoSampleSoTheLimitDoesNotCollapseWhenRealCallsReturn() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(20, 20, 200);
        int l = busy(a, 20, 400, 10); // healthy at 10 ms: the limit grows to the maximum
        assertEquals(200, l);
        for (int i = 0; i < 300; i++) { // an inner guard refuses at once, 5 us each: drops
            l = a.update(l, 5_000, l, true);
        }
        assertEquals(200, l, "refusals are no sample");
        l = busy(a, l, 20, 10);
        assertTrue(l >= 195, "the next 10 ms calls are not slow against a long RTT the refusals shortened: " + l);
        // A drop that took long (a timeout) is still a sample: it lowers the limit.
        assertTrue(samples(a, l, 20, 100, true) < l);
        // Before any sample there is no long RTT to compare with: a drop then is no sample either.
        LimitAlgorithm fresh = LimitAlgorithm.gradient2(50, 20, 200);
        assertEquals(50, fresh.update(50, 5_000, 50, true));
    }

    @Test
    void growsByQueueSizeTimesSmoothingPerSampleWhileRoundTripsHold() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(20, 20, 200);
        assertEquals(20, a.initialLimit());
        // gradient 1: each sample adds smoothing x queueSize = 0.2 x 4 = 0.8
        int l = busy(a, 20, 50, 10);
        assertTrue(l >= 59 && l <= 60, "20 + 50 x 0.8: " + l);
        l = busy(a, l, 50, 10);
        assertTrue(l >= 99 && l <= 100, "20 + 100 x 0.8: " + l);
    }

    @Test
    void shrinksWhenRoundTripsRiseBeyondTheToleranceAndRecovers() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(100, 5, 200);
        int l = busy(a, 100, 20, 10);
        int healthy = l;
        // 14 ms is within 1.5 x 10 ms: still growing
        l = busy(a, l, 5, 14);
        assertTrue(l > healthy, "within the tolerance: " + healthy + " -> " + l);
        int before = l;
        // 40 ms: gradient 1.5 x 10 / 40 < 0.5, so 0.5: estimate x 0.9 + 0.8 per sample
        l = busy(a, l, 10, 40);
        assertTrue(l < before * 0.9 * 0.9 * 0.9 * 0.9, "falls: " + before + " -> " + l);
        int low = busy(a, l, 30, 40);
        assertTrue(low < 15, "towards 8 = 0.8 / (1 - 0.9), at least min: " + low);
        int recovered = busy(a, low, 30, 10);
        assertTrue(recovered > low + 20, "recovers when latency drops: " + low + " -> " + recovered);
    }

    @Test
    void aToleranceOfOneShrinksOnAnyRise() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(100, 5, 200, 0.2, 1.0, 600, 4);
        int l = busy(a, 100, 20, 10);
        int after = busy(a, l, 10, 14);
        assertTrue(after < l, "14 ms is 1.4 x the long RTT: " + l + " -> " + after);
    }

    @Test
    void staysWithinMinAndMax() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(15, 10, 30);
        assertEquals(30, busy(a, 15, 100, 10));
        // at gradient 0.5 the estimate tends to 8 (0.9 x 8 + 0.8 = 8), below the minimum
        assertEquals(10, busy(a, 30, 60, 1_000));
        LimitAlgorithm fixed = LimitAlgorithm.gradient2(7, 7, 7);
        assertEquals(7, busy(fixed, 7, 50, 10));
        assertEquals(7, busy(fixed, 7, 50, 1_000));
    }

    @Test
    void appLimitedSamplesMoveNoLimitButTeachTheRoundTrips() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(40, 5, 200);
        for (int i = 0; i < 50; i++) {
            assertEquals(40, a.update(40, 10 * MS, 19, false), "fewer than half in flight: no growth");
        }
        for (int i = 0; i < 10; i++) {
            assertEquals(40, a.update(40, 100 * MS, 19, true), "nor a fall, drops included");
        }
        assertEquals(40, LimitAlgorithm.gradient2(40, 5, 200).update(40, 10 * MS, 0, false));
        assertEquals(40, LimitAlgorithm.gradient2(40, 5, 200).update(40, 10 * MS, Integer.MIN_VALUE, false));
        assertEquals(40, a.update(40, 10 * MS, 20, false), "half the limit in flight is busy: 40 + 0.8, truncated");
        assertEquals(40, a.update(40, 10 * MS, 20, false), "20 < 40.8 / 2: app-limited again");
        assertEquals(41, a.update(40, 10 * MS, 21, false), "40.8 + 0.8");
    }

    @Test
    void theLongRttLearnsFromAppLimitedSamplesDuringItsWarmup() {
        // Ten app-limited samples at 40 ms set the long RTT to 40 ms; a busy one at 40 ms then grows.
        LimitAlgorithm a = LimitAlgorithm.gradient2(40, 5, 200);
        for (int i = 0; i < 10; i++) {
            a.update(40, 40 * MS, 1, false);
        }
        assertEquals(40, a.update(40, 40 * MS, 40, false), "40 + 0.8, truncated");
        assertEquals(41, a.update(40, 40 * MS, 40, false), "40 + 1.6");
        // Without that history, 40 ms is the first sample: the long RTT is 40 ms too (its mean).
        LimitAlgorithm fresh = LimitAlgorithm.gradient2(40, 5, 200);
        for (int i = 0; i < 10; i++) {
            fresh.update(40, 10 * MS, 1, false);
        }
        assertTrue(fresh.update(40, 40 * MS, 40, false) < 40, "the long RTT is 10 ms: 40 ms is a rise");
    }

    @Test
    void aDropCountsThroughItsRoundTripAsInConcurrencyLimits() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(50, 5, 200);
        int l = busy(a, 50, 20, 10);
        int afterTimeouts = samples(a, l, 10, 100, true);
        assertTrue(afterTimeouts < l * 0.9, "timed out drops (100 ms) lower the limit: " + l + " -> " + afterTimeouts);
        LimitAlgorithm b = LimitAlgorithm.gradient2(50, 5, 200);
        int m = busy(b, 50, 20, 10);
        int afterFastDrops = samples(b, m, 10, 10, true);
        assertTrue(afterFastDrops >= m, "a drop as fast as a success is no sign of queueing: " + m + " -> " + afterFastDrops);
    }

    @Test
    void afterALongOverloadTheLongRttDecaysSoALaterRiseIsSeen() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(100, 5, 200);
        // The warm-up makes the long RTT 100 ms: the overload is the normal.
        int l = busy(a, 100, 10, 100);
        // 10 ms: the long RTT exceeds twice the short one, so it decays by 5 % a sample (down to about
        // 20 ms in some 35 samples); the exponential average alone (2 / 601 a sample) would keep it
        // near 75 ms after 100 samples.
        l = busy(a, l, 100, 10);
        int before = l;
        // 45 ms: 1.5 x ~20 / 45 < 1, a rise; with a long RTT of 75 ms it would be 1.5 x 75 / 45 > 1.
        l = busy(a, l, 5, 45);
        assertTrue(l < before, "a rise after recovery lowers the limit: " + before + " -> " + l);
    }

    @Test
    void theQueueSizeCanBeAFunctionOfTheLimit() {
        AtomicInteger seen = new AtomicInteger();
        LimitAlgorithm a = LimitAlgorithm.gradient2(100, 5, 1_000, 0.5, 1.5, 600, limit -> {
            seen.set(limit);
            return (int) Math.sqrt(limit);
        });
        // gradient 1: each sample adds 0.5 x sqrt(limit) = 5 at 100
        assertEquals(105, a.update(100, 10 * MS, 100, false));
        assertEquals(100, seen.get(), "called with the current estimate, truncated");
        LimitAlgorithm negative = LimitAlgorithm.gradient2(100, 5, 1_000, 0.5, 1.5, 600, limit -> -10);
        assertEquals(100, negative.update(100, 10 * MS, 100, false), "a negative queue size counts as 0");
        assertEquals(100, busy(negative, 100, 10, 10));
    }

    @Test
    void aQueueSizeFunctionThatThrowsLeavesTheLimitAlone() {
        AtomicInteger calls = new AtomicInteger();
        IntUnaryOperator broken = limit -> {
            if (calls.incrementAndGet() % 2 == 0) {
                throw new IllegalStateException("queue size function failed on purpose");
            }
            return 4;
        };
        LimitAlgorithm a = LimitAlgorithm.gradient2(20, 5, 200, 0.25, 1.5, 600, broken);
        assertEquals(21, a.update(20, 10 * MS, 20, false), "20 + 0.25 x 4");
        assertEquals(21, a.update(21, 10 * MS, 21, false), "the function threw: no change, no exception");
        assertEquals(22, a.update(21, 10 * MS, 21, false), "works again");
        assertEquals(3, calls.get());
    }

    @Test
    void aRoundTripOfZeroIsIgnored() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(20, 5, 200);
        assertEquals(20, a.update(20, 0, 20, false));
        assertEquals(20, a.update(20, -5, 20, true));
        // The long RTT did not learn 0 from them: 10 ms is its first sample, no rise.
        assertEquals(20, a.update(20, 10 * MS, 20, false));
        assertEquals(21, a.update(20, 10 * MS, 20, false));
    }

    @Test
    void extremeValuesNeitherOverflowNorStick() {
        LimitAlgorithm a = LimitAlgorithm.gradient2(Integer.MAX_VALUE - 10, 1, Integer.MAX_VALUE, 1.0, 1.5,
                Integer.MAX_VALUE, Integer.MAX_VALUE);
        assertEquals(Integer.MAX_VALUE, a.update(Integer.MAX_VALUE - 10, Long.MAX_VALUE, Integer.MAX_VALUE, false));
        assertEquals(Integer.MAX_VALUE, a.update(Integer.MAX_VALUE, 1, Integer.MAX_VALUE, false));
    }

    private static void assertRejected(String parameter, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(parameter + " "), "names " + parameter + ": " + e.getMessage());
    }

    @Test
    void badArgumentsAreRejectedNamingTheParameter() {
        assertRejected("initialLimit", () -> LimitAlgorithm.gradient2(0, 1, 10));
        assertRejected("initialLimit", () -> LimitAlgorithm.gradient2(11, 1, 10));
        assertRejected("min", () -> LimitAlgorithm.gradient2(5, 0, 10));
        assertRejected("max", () -> LimitAlgorithm.gradient2(5, 6, 5));
        assertRejected("smoothing", () -> LimitAlgorithm.gradient2(5, 1, 10, 0.0, 1.5, 600, 4));
        assertRejected("smoothing", () -> LimitAlgorithm.gradient2(5, 1, 10, 1.01, 1.5, 600, 4));
        assertRejected("smoothing", () -> LimitAlgorithm.gradient2(5, 1, 10, Double.NaN, 1.5, 600, 4));
        assertRejected("rttTolerance", () -> LimitAlgorithm.gradient2(5, 1, 10, 0.2, 0.99, 600, 4));
        assertRejected("rttTolerance", () -> LimitAlgorithm.gradient2(5, 1, 10, 0.2, Double.NaN, 600, 4));
        assertRejected("rttTolerance", () -> LimitAlgorithm.gradient2(5, 1, 10, 0.2, Double.POSITIVE_INFINITY, 600, 4));
        assertRejected("longWindow", () -> LimitAlgorithm.gradient2(5, 1, 10, 0.2, 1.5, 0, 4));
        assertRejected("queueSize", () -> LimitAlgorithm.gradient2(5, 1, 10, 0.2, 1.5, 600, -1));
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> LimitAlgorithm.gradient2(5, 1, 10, 0.2, 1.5, 600, (IntUnaryOperator) null));
        assertEquals("queueSize", npe.getMessage());
        // the edges are accepted
        LimitAlgorithm.gradient2(1, 1, 1, 1.0, 1.0, 1, 0);
    }

    @Test
    void toStringNamesTheParameters() {
        assertEquals("Gradient2[20..200, smoothing 0.2, rttTolerance 1.5, longWindow 600, queueSize 4]",
                LimitAlgorithm.gradient2(20, 20, 200).toString());
    }
}
