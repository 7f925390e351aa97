package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.functions.SquareRootFunction;
import java.util.Random;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link LimitAlgorithm#gradient2} against concurrency-limits' own {@code Gradient2Limit} (the test
 * dependency's version, 0.5.4): both are fed the same seeded sequence of round trips, in-flight
 * counts and drops, and must report the same limit after every sample and at the end.
 *
 * <p>The tolerance is {@value #TOLERANCE}: ours performs the library's floating-point operations in
 * the library's order, so the limits are equal, not merely close. The only input on which the two
 * differ on purpose, a round trip of 0 ns or less (ours ignores it), is never generated here.
 */
class Gradient2ComparisonTest {

    /** The largest difference allowed between the two limits, per sample and at the end. */
    private static final int TOLERANCE = 0;

    private static final long MS = 1_000_000L;

    /** One sample of a scenario. */
    private record Sample(long rttNanos, int inFlight, boolean dropped) {
    }

    /** Makes sample {@code step} of a scenario, given the reference's current limit. */
    private interface Scenario {
        Sample next(int step, Random rnd, int limit);
    }

    /**
     * Feeds {@code steps} samples of {@code scenario} to both algorithms and checks that they agree
     * after each one.
     *
     * @return the reference's limits, one per sample
     */
    private static int[] compare(LimitAlgorithm ours, com.netflix.concurrency.limits.Limit theirs, long seed,
            int steps, Scenario scenario) {
        Random rnd = new Random(seed);
        int[] limits = new int[steps];
        int ourLimit = ours.initialLimit();
        assertEquals(theirs.getLimit(), ourLimit, "initial limit");
        long now = 0;
        for (int step = 0; step < steps; step++) {
            Sample s = scenario.next(step, rnd, theirs.getLimit());
            now += s.rttNanos();
            // Ours takes no sample of a drop faster than the long-term round trip (a local refusal):
            // the reference is fed only the samples ours takes.
            long longRtt = ((Gradient2Limit) theirs).getRttNoLoad(java.util.concurrent.TimeUnit.NANOSECONDS);
            if (!(s.dropped() && (longRtt == 0 || s.rttNanos() < longRtt))) {
                theirs.onSample(now - s.rttNanos(), s.rttNanos(), s.inFlight(), s.dropped());
            }
            ourLimit = ours.update(ourLimit, s.rttNanos(), s.inFlight(), s.dropped());
            int expected = theirs.getLimit();
            if (Math.abs(expected - ourLimit) > TOLERANCE) {
                fail("sample " + step + " " + s + ": concurrency-limits " + expected + ", ours " + ourLimit);
            }
            limits[step] = expected;
        }
        assertTrue(Math.abs(theirs.getLimit() - ourLimit) <= TOLERANCE,
                "at the end: concurrency-limits " + theirs.getLimit() + ", ours " + ourLimit);
        return limits;
    }

    private static Gradient2Limit reference() {
        return Gradient2Limit.newBuilder().build();
    }

    /** The library's defaults, spelled out: initial 20, min 20, max 200. */
    private static LimitAlgorithm defaults() {
        return LimitAlgorithm.gradient2(20, 20, 200);
    }

    /** {@code base} with up to {@code jitter} (a fraction) either way. */
    private static long jittered(Random rnd, long base, double jitter) {
        return Math.max(1, (long) (base * (1 + jitter * (2 * rnd.nextDouble() - 1))));
    }

    /** A busy limiter: between {@code lowest} and all of the limit in flight. */
    private static int inFlight(Random rnd, int limit, double lowest) {
        return (int) (limit * (lowest + (1 - lowest) * rnd.nextDouble()));
    }

    private static int min(int[] limits, int from, int to) {
        int m = Integer.MAX_VALUE;
        for (int i = from; i < to; i++) {
            m = Math.min(m, limits[i]);
        }
        return m;
    }

    private static int max(int[] limits, int from, int to) {
        int m = Integer.MIN_VALUE;
        for (int i = from; i < to; i++) {
            m = Math.max(m, limits[i]);
        }
        return m;
    }

    @Test
    void steadyLatencyWithJitterAndSomeAppLimitedSamples() {
        int[] limits = compare(defaults(), reference(), 1, 3_000,
                (step, rnd, limit) -> new Sample(jittered(rnd, 10 * MS, 0.3), inFlight(rnd, limit, 0.3), false));
        assertEquals(200, limits[limits.length - 1], "grows to the maximum while latency holds");
    }

    @Test
    void latencyStepUp() {
        int[] limits = compare(defaults(), reference(), 2, 3_000, (step, rnd, limit) -> new Sample(
                jittered(rnd, (step < 1_000 ? 10 : 40) * MS, 0.1), inFlight(rnd, limit, 0.6), false));
        assertTrue(max(limits, 0, 1_000) > 100, "grew first: " + max(limits, 0, 1_000));
        assertEquals(20, min(limits, 1_000, 1_200), "then fell to the minimum");
    }

    @Test
    void latencyStepDownAfterALongOverload() {
        // 10 ms, then 50 ms long enough for the long-term RTT to climb (past 2 x 10 ms), then 10 ms
        // again: the long RTT decays while it exceeds twice the short one.
        int[] limits = compare(defaults(), reference(), 3, 3_000, (step, rnd, limit) -> new Sample(
                jittered(rnd, (step < 200 || step >= 700 ? 10 : 50) * MS, 0.1), inFlight(rnd, limit, 0.6), false));
        assertEquals(20, min(limits, 200, 700), "fell in the overload");
        assertEquals(200, limits[2_999], "recovered after it");
    }

    @Test
    void dropsWithLongAndShortRoundTrips() {
        // 10 % drops: half time out (a long round trip), half are refused at once (a short one).
        int[] limits = compare(defaults(), reference(), 4, 3_000, (step, rnd, limit) -> {
            double r = rnd.nextDouble();
            boolean dropped = r < 0.1;
            long rtt = !dropped ? jittered(rnd, 10 * MS, 0.2) : r < 0.05 ? 100 * MS : MS / 2;
            return new Sample(rtt, inFlight(rnd, limit, 0.4), dropped);
        });
        assertTrue(min(limits, 0, 3_000) < max(limits, 0, 3_000), "the limit moved");
    }

    @Test
    void squareRootQueueSizeAndOtherParametersWithOscillatingLatency() {
        // The library's own max(4, sqrt(limit)), given to both.
        Function<Integer, Integer> root = SquareRootFunction.create(4);
        IntUnaryOperator sqrt = root::apply;
        Gradient2Limit theirs = Gradient2Limit.newBuilder().initialLimit(50).minLimit(5).maxConcurrency(1_000)
                .smoothing(0.5).rttTolerance(2.0).longWindow(100).queueSizeFunction(sqrt).build();
        LimitAlgorithm ours = LimitAlgorithm.gradient2(50, 5, 1_000, 0.5, 2.0, 100, sqrt);
        int[] limits = compare(ours, theirs, 5, 4_000, (step, rnd, limit) -> {
            long base = (long) ((20 + 15 * Math.sin(step / 150.0)) * MS);
            return new Sample(jittered(rnd, base, 0.5), inFlight(rnd, limit, 0.2), rnd.nextDouble() < 0.02);
        });
        assertTrue(max(limits, 0, 4_000) - min(limits, 0, 4_000) > 20,
                "the limit moved both ways: " + min(limits, 0, 4_000) + ".." + max(limits, 0, 4_000));
    }

    @Test
    void aShortLongWindowAndNoTolerance() {
        Gradient2Limit theirs = Gradient2Limit.newBuilder().initialLimit(10).minLimit(1).maxConcurrency(100)
                .smoothing(1.0).rttTolerance(1.0).longWindow(1).queueSize(0).build();
        LimitAlgorithm ours = LimitAlgorithm.gradient2(10, 1, 100, 1.0, 1.0, 1, 0);
        compare(ours, theirs, 6, 2_000, (step, rnd, limit) -> new Sample(
                jittered(rnd, 5 * MS, 0.9), inFlight(rnd, limit, 0.0), false));
    }
}
