package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ManualTicker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AdaptiveThrottleTest {

    private static final Duration BUCKET = Duration.ofMillis(250);

    private final ManualTicker ticker = new ManualTicker();

    /** A throttle whose random source never drops (the ratio stays below 1): outcomes go in as given. */
    private AdaptiveThrottle.Builder quiet(String name) {
        return AdaptiveThrottle.builder(name).ticker(ticker).random(() -> 1.0).forcedPassInterval(Duration.ofDays(1));
    }

    private static void feed(AdaptiveThrottle t, int accepts, int failures) {
        for (int i = 0; i < accepts; i++) {
            Permit p = t.tryAcquire();
            assertTrue(p.isPermitted());
            p.onSuccess();
        }
        for (int i = 0; i < failures; i++) {
            Permit p = t.tryAcquire();
            assertTrue(p.isPermitted());
            p.onFailure(new IOException("refused"));
        }
    }

    @ParameterizedTest(name = "K {0}, protection {1}: {2} requests, {3} accepts -> {4}")
    @CsvSource({
        "1.5, 5, 100, 100, 0",
        "1.5, 5, 100, 60, 0.049504950",   // (100 - 5 - 90) / 101
        "1.5, 5, 100, 64, 0",             // (100 - 5 - 96) < 0
        "1.5, 5, 100, 50, 0.198019802",   // (100 - 5 - 75) / 101
        "1.5, 5, 100, 0, 0.940594059",    // 95 / 101
        "1.5, 5, 5, 0, 0",                // protection: low traffic is never throttled
        "1.5, 5, 6, 0, 0.142857143",      // 1 / 7
        "1.5, 5, 1000, 600, 0.094905095", // (1000 - 5 - 900) / 1001
        "2.0, 5, 100, 40, 0.148514851",   // (100 - 5 - 80) / 101
        "2.0, 0, 10, 0, 0.909090909",     // 10 / 11
        "1.0, 5, 200, 150, 0.223880597",  // (200 - 5 - 150) / 201
    })
    void theDropRatioIsTheBooksFormula(double k, int protection, int requests, int accepts, double expected) {
        AdaptiveThrottle t = quiet("formula").k(k).protection(protection).recoveryScaling(false).build();
        feed(t, accepts, requests - accepts);
        assertEquals(expected, t.dropRatio(), 1e-9);
        AdaptiveThrottle.Stats s = t.stats();
        assertEquals(requests, s.requests());
        assertEquals(accepts, s.accepts());
        assertEquals(requests - accepts, s.failures());
    }

    @Test
    void theWindowRollsOver() {
        AdaptiveThrottle t = quiet("rolling").recoveryScaling(false).build();
        feed(t, 0, 50);
        ticker.advance(Duration.ofSeconds(5));
        feed(t, 0, 50);
        assertEquals(95.0 / 101, t.dropRatio(), 1e-9);
        ticker.advance(Duration.ofMillis(4_900)); // 9.9 s after the first 50: still in the window
        assertEquals(95.0 / 101, t.dropRatio(), 1e-9);
        ticker.advance(Duration.ofMillis(200)); // 10.1 s: the first 50 aged out
        assertEquals(45.0 / 51, t.dropRatio(), 1e-9);
        assertEquals(50, t.stats().requests());
        ticker.advance(Duration.ofSeconds(5)); // everything aged out
        assertEquals(0.0, t.dropRatio());
        assertEquals(0, t.stats().requests());
        ticker.advance(Duration.ofHours(3)); // a clock jump far past the window
        feed(t, 0, 6);
        assertEquals(1.0 / 7, t.dropRatio(), 1e-9);
    }

    @Test
    void aClockThatGoesBackStaysInTheCurrentBucket() {
        AdaptiveThrottle t = quiet("back").recoveryScaling(false).build();
        feed(t, 0, 10);
        ticker.set(ticker.read() - Duration.ofMinutes(1).toNanos());
        feed(t, 0, 10);
        assertEquals(15.0 / 21, t.dropRatio(), 1e-9);
    }

    @Test
    void lowTrafficIsNeverThrottledEvenWhenEverythingFails() {
        AdaptiveThrottle t = AdaptiveThrottle.builder("low").ticker(ticker).random(() -> 0.0).build();
        for (int i = 0; i < 6; i++) { // the sixth sees 5 requests: (5 - 5 - 0) / 6 = 0
            Permit p = t.tryAcquire();
            assertTrue(p.isPermitted(), "call " + i);
            p.onFailure(new IOException("down"));
        }
        assertFalse(t.tryAcquire().isPermitted(), "the seventh sees 6 requests and a ratio of 1/7");
    }

    @Test
    void whileEverythingIsDroppedOneCallPassesEverySecond() {
        AdaptiveThrottle t = AdaptiveThrottle.builder("forced").ticker(ticker).random(() -> 0.0).recoveryScaling(false).build();
        for (int i = 0; i < 100; i++) {
            Permit p = t.tryAcquire();
            if (p.isPermitted()) {
                p.onFailure(new IOException("down"));
            }
        }
        ticker.advance(Duration.ofMillis(999));
        assertFalse(t.tryAcquire().isPermitted());
        ticker.advance(Duration.ofMillis(1));
        Permit forced = t.tryAcquire();
        assertTrue(forced.isPermitted(), "a second after the last pass, one call goes through");
        assertFalse(t.tryAcquire().isPermitted(), "and only one");
        forced.onFailure(new IOException("still down"));
        ticker.advance(Duration.ofMillis(500));
        assertFalse(t.tryAcquire().isPermitted());
        ticker.advance(Duration.ofMillis(500));
        assertTrue(t.tryAcquire().isPermitted());
    }

    @Test
    void droppedCallsCountAsRequestsAndThrowAThrottledException() throws Exception {
        double[] draw = {1.0};
        AdaptiveThrottle t = AdaptiveThrottle.builder("drops").ticker(ticker).random(() -> draw[0])
                .forcedPassInterval(Duration.ofDays(1)).recoveryScaling(false).build();
        feed(t, 0, 20);
        draw[0] = 0.0;
        long before = t.stats().requests();
        ThrottledException e = assertThrows(ThrottledException.class, () -> t.call(() -> "never"));
        assertEquals("drops", e.policy());
        assertEquals(RefusedException.Refusal.THROTTLED, e.refusal());
        assertTrue(e.dropRatio() > 0.5, "ratio " + e.dropRatio());
        assertEquals(0, e.getStackTrace().length);
        assertEquals(before + 1, t.stats().requests());
        ExecutionException async = assertThrows(ExecutionException.class,
                () -> t.callAsync(() -> CompletableFuture.completedFuture("never")).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertInstanceOf(ThrottledException.class, async.getCause());
    }

    /** Simulates {@code seconds} of {@code perBucket} attempts per bucket against a dependency that accepts with probability {@code accept}. */
    private static List<Double> simulate(AdaptiveThrottle t, ManualTicker ticker, Random dependency, int seconds,
            int perBucket, double accept) {
        List<Double> ratioEachSecond = new ArrayList<>();
        for (int b = 0; b < seconds * 4; b++) {
            for (int i = 0; i < perBucket; i++) {
                Permit p = t.tryAcquire();
                if (p.isPermitted()) {
                    if (dependency.nextDouble() < accept) {
                        p.onSuccess();
                    } else {
                        p.onFailure(new IOException("503"));
                    }
                }
            }
            ticker.advance(BUCKET);
            if (b % 4 == 3) {
                ratioEachSecond.add(t.dropRatio());
            }
        }
        return ratioEachSecond;
    }

    @Test
    void dropsFadeOutWithinAFewSecondsOnceTheDependencyRecovers() {
        Random seeded = new Random(42);
        AdaptiveThrottle t = AdaptiveThrottle.builder("recovery").ticker(ticker).random(seeded::nextDouble).build();
        Random dependency = new Random(7);
        List<Double> down = simulate(t, ticker, dependency, 10, 50, 0.0);
        assertTrue(down.get(down.size() - 1) > 0.9, "a dependency that refuses everything: " + down);
        List<Double> up = simulate(t, ticker, dependency, 4, 50, 1.0);
        assertTrue(up.get(0) > 0.1, "the first second after recovery still drops: " + up);
        assertEquals(0.0, up.get(2), "3 s after recovery (2 s of working buckets, the default recoveryTime): " + up);
        // The first refusal after that brings the formula's ratio back in the next bucket.
        Permit p = t.tryAcquire();
        assertTrue(p.isPermitted());
        p.onFailure(new IOException("503"));
        ticker.advance(BUCKET);
        AdaptiveThrottle.Stats st = t.stats();
        double formula = (st.requests() - 5 - 1.5 * st.accepts()) / (st.requests() + 1.0);
        assertEquals(formula, t.dropRatio(), 1e-9, "a relapse: the formula's ratio, no longer scaled: " + st);
        assertTrue(formula > 0.3, "the window still remembers the outage: " + st);
    }

    @Test
    void withGoZerosRecoveryTimeTheDropsFadeOverTheWindow() {
        Random seeded = new Random(42);
        AdaptiveThrottle t = AdaptiveThrottle.builder("go-zero").ticker(ticker).random(seeded::nextDouble)
                .recoveryTime(Duration.ofSeconds(10)).build();
        Random dependency = new Random(7);
        List<Double> down = simulate(t, ticker, dependency, 10, 50, 0.0);
        assertTrue(down.get(down.size() - 1) > 0.9, "a dependency that refuses everything: " + down);
        List<Double> up = simulate(t, ticker, dependency, 12, 50, 1.0);
        assertTrue(up.get(2) > 0.25, "3 s after recovery: " + up);
        assertTrue(up.get(4) < 0.5, "5 s after recovery: " + up);
        assertTrue(up.get(6) < 0.25, "7 s after recovery: " + up);
        assertTrue(up.get(9) < 0.05, "10 s after recovery: " + up);
        assertEquals(0.0, up.get(11), "12 s after recovery: " + up);
        for (int i = 1; i < up.size(); i++) {
            assertTrue(up.get(i) <= up.get(i - 1), "it only goes down: " + up);
        }

        // The book's formula alone waits for the refusals to age out of the window.
        ManualTicker plainTicker = new ManualTicker();
        Random seeded2 = new Random(42);
        AdaptiveThrottle plain = AdaptiveThrottle.builder("plain").ticker(plainTicker).random(seeded2::nextDouble)
                .recoveryScaling(false).build();
        Random dependency2 = new Random(7);
        simulate(plain, plainTicker, dependency2, 10, 50, 0.0);
        List<Double> plainUp = simulate(plain, plainTicker, dependency2, 10, 50, 1.0);
        assertTrue(plainUp.get(3) > up.get(3), "scaling recovers faster: " + plainUp + " vs " + up);
    }

    @Test
    void withoutCountingDropsTheRatioSettlesInProportionToTheShareRefused() {
        Random seeded = new Random(5);
        AdaptiveThrottle t = AdaptiveThrottle.builder("proportional").ticker(ticker).random(seeded::nextDouble)
                .countDroppedCalls(false).build();
        Random dependency = new Random(11);
        List<Double> half = simulate(t, ticker, dependency, 20, 50, 0.5);
        // 1 - K a = 0.25, less the protection's 5 of the ~1500 calls sent in a window
        for (int s = 10; s < 20; s++) {
            assertEquals(0.25, half.get(s), 0.05, "second " + s + ": " + half);
        }
        AdaptiveThrottle.Stats stats = t.stats();
        assertEquals(stats.requests(), stats.accepts() + stats.failures(), "dropped calls are not requests here");
        List<Double> up = simulate(t, ticker, dependency, 6, 50, 1.0);
        assertEquals(0.0, up.get(3), "4 s after recovery: " + up);
    }

    /**
     * The two ways of counting side by side, each on its own manual clock and with the same
     * dependency (seeded): counting dropped calls as requests (the default, the book's), the ratio
     * keeps climbing while half the calls are refused, and the dependency is sent less than without
     * counting them, which settles at {@code 1 - K a}. Here rather than in the loopback test, where
     * over its 12 s of refusals the two differ by about two standard deviations only.
     */
    @Test
    void countingDropsAsRequestsSendsARefusingDependencyLessThanNotCountingThem() {
        ManualTicker countingTicker = new ManualTicker();
        Random seeded = new Random(5);
        AdaptiveThrottle counting = AdaptiveThrottle.builder("counting").ticker(countingTicker)
                .random(seeded::nextDouble).build();
        Random seeded2 = new Random(5);
        AdaptiveThrottle proportional = AdaptiveThrottle.builder("proportional").ticker(ticker)
                .random(seeded2::nextDouble).countDroppedCalls(false).build();
        List<Double> c = simulate(counting, countingTicker, new Random(11), 30, 50, 0.5);
        List<Double> p = simulate(proportional, ticker, new Random(11), 30, 50, 0.5);
        for (int s = 12; s < 30; s++) {
            assertTrue(c.get(s) > p.get(s) + 0.05, "second " + s + ": counting " + c + " vs " + p);
            assertTrue(c.get(s) >= c.get(s - 2) - 0.02, "counting climbs: " + c);
        }
        assertEquals(0.25, p.get(29), 0.05, "without counting: 1 - K a: " + p);
        assertTrue(c.get(29) > 0.6, "counting: towards 1 (K a = 0.75 < 1): " + c);
        AdaptiveThrottle.Stats stats = counting.stats();
        assertTrue(stats.requests() > stats.accepts() + stats.failures(), "dropped calls are requests: " + stats);
    }

    @Test
    void loweringKWhileFailingFollowsTheFailingBuckets() {
        AdaptiveThrottle t = quiet("lowered").recoveryScaling(false).lowerKWhileFailing(1.1).build();
        for (int b = 0; b < 8; b++) { // 8 completed buckets of refusals only
            feed(t, 0, 10);
            ticker.advance(BUCKET);
        }
        feed(t, 40, 0); // the current bucket's accepts do not end the run of failing buckets yet
        double k = 1.5 - (1.5 - 1.1) * 8 / 40;
        assertEquals((120 - 5 - k * 40) / 121, t.dropRatio(), 1e-9);
        ticker.advance(BUCKET);
        assertEquals((120 - 5 - 1.5 * 40) / 121, t.dropRatio(), 1e-9, "an accepting bucket ends the run");
    }

    @Test
    void theDropRateMatchesTheRatioWithinFiveSigma() {
        Random seeded = new Random(20_261_130);
        AdaptiveThrottle t = AdaptiveThrottle.builder("statistics").ticker(ticker).random(seeded::nextDouble)
                .forcedPassInterval(Duration.ofDays(1)).recoveryScaling(false).build();
        Random dependency = new Random(99);
        double expected = 0;
        double variance = 0;
        int dropped = 0;
        int calls = 20_000;
        for (int i = 0; i < calls; i++) {
            double p = t.dropRatio();
            expected += p;
            variance += p * (1 - p);
            Permit permit = t.tryAcquire();
            if (!permit.isPermitted()) {
                dropped++;
            } else if (dependency.nextDouble() < 0.4) {
                permit.onSuccess();
            } else {
                permit.onFailure(new IOException("refused"));
            }
        }
        double sigma = Math.sqrt(variance);
        assertTrue(expected > 1000, "the throttle dropped a meaningful share: expected " + expected);
        assertTrue(Math.abs(dropped - expected) <= 5 * sigma,
                "dropped " + dropped + ", expected " + expected + " +- 5 x " + sigma);
    }

    @Test
    void outcomesAreClassifiedAsTheBreakersAre() throws Exception {
        class Business extends RuntimeException {
            private static final long serialVersionUID = 1L;
        }
        AdaptiveThrottle t = quiet("classes").isSuccessful(e -> e instanceof Business).build();
        assertThrows(Business.class, () -> t.call(() -> {
            throw new Business();
        }));
        t.tryAcquire().onFailure(new RequestNotPermittedException("inner", RequestNotPermittedException.Reason.NO_PERMIT, "x"));
        CancelHandle caller = Context.background().withCancel();
        caller.cancel();
        t.tryAcquire().onFailure((ContextCancelledException) caller.context().err());
        t.tryAcquire().onFailure(new InterruptedException());
        t.tryAcquire().release();
        t.tryAcquire().onExcluded();
        assertThrows(IOException.class, () -> t.call(() -> {
            throw new IOException("timeout");
        }));
        assertEquals("ok", t.call(() -> "ok"));
        t.run(() -> { });
        AdaptiveThrottle.Stats s = t.stats();
        assertEquals(4, s.requests(), "a business error, a failure, two successes: " + s);
        assertEquals(3, s.accepts());
        assertEquals(1, s.failures());
        assertThrows(NullPointerException.class, () -> t.tryAcquire().onFailure(null));
    }

    @Test
    void asyncOutcomesCountAndACancelledStageCountsNothing() throws Exception {
        AdaptiveThrottle t = quiet("async").build();
        assertEquals("v", t.callAsync(() -> CompletableFuture.completedFuture("v")).toCompletableFuture().get());
        CompletableFuture<String> failing = CompletableFuture.failedFuture(new IOException("503"));
        assertThrows(ExecutionException.class, () -> t.callAsync(() -> failing).toCompletableFuture().get());
        CompletableFuture<String> pending = new CompletableFuture<>();
        CompletableFuture<String> out = t.callAsync(() -> pending).toCompletableFuture();
        pending.cancel(false);
        assertTrue(out.isCompletedExceptionally());
        assertInstanceOf(NullPointerException.class, assertThrows(ExecutionException.class,
                () -> t.callAsync(() -> null).toCompletableFuture().get()).getCause());
        IllegalStateException thrown = new IllegalStateException("supplier");
        assertSame(thrown, assertThrows(ExecutionException.class, () -> t.callAsync(() -> {
            throw thrown;
        }).toCompletableFuture().get()).getCause());
        AdaptiveThrottle.Stats s = t.stats();
        assertEquals(3, s.requests(), "success, failure, supplier failure: " + s);
        assertEquals(1, s.accepts());
    }

    @Test
    void hostileCallbacksChangeNoOutcomeAndNoCount() throws Exception {
        AtomicInteger heard = new AtomicInteger();
        AdaptiveThrottleListener throwing = new AdaptiveThrottleListener() {
            @Override
            public void onRejected(AdaptiveThrottle throttle, double dropRatio) {
                heard.incrementAndGet();
                throw new IllegalStateException("listener");
            }

            @Override
            public void onAccepted(AdaptiveThrottle throttle) {
                heard.incrementAndGet();
                throw new IllegalStateException("listener");
            }

            @Override
            public void onFailure(AdaptiveThrottle throttle, Throwable failure) {
                heard.incrementAndGet();
                throw new Error("listener");
            }
        };
        AdaptiveThrottle t = AdaptiveThrottle.builder("hostile").ticker(ticker).forcedPassInterval(Duration.ofDays(1))
                .random(() -> {
                    throw new IllegalStateException("random");
                })
                .isSuccessful(e -> {
                    throw new IllegalStateException("isSuccessful");
                })
                .isExcluded(e -> {
                    throw new IllegalStateException("isExcluded");
                })
                .listener(throwing).build();
        assertEquals("ok", t.call(() -> "ok"));
        IOException io = new IOException("503");
        for (int i = 0; i < 50; i++) {
            assertSame(io, assertThrows(IOException.class, () -> t.call(() -> {
                throw io;
            })), "the task's own exception comes out");
        }
        // The ratio is high now, but a random source that throws never drops a call.
        assertTrue(t.dropRatio() > 0.5);
        assertEquals("still", t.call(() -> "still"));
        AdaptiveThrottle.Stats s = t.stats();
        assertEquals(52, s.requests());
        assertEquals(2, s.accepts());
        assertEquals(52, heard.get());

        AdaptiveThrottle nan = quiet("nan").random(() -> Double.NaN).build();
        feed(nan, 0, 50);
        assertTrue(nan.tryAcquire().isPermitted(), "a NaN from the random source drops nothing");
    }

    @Test
    void aListenerThatBlocksHoldsUpOnlyItsOwnCaller() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AdaptiveThrottle t = AdaptiveThrottle.builder("blocking").ticker(ticker).random(() -> 0.0)
                .forcedPassInterval(Duration.ofDays(1)).recoveryScaling(false)
                .listener(new AdaptiveThrottleListener() {
                    @Override
                    public void onRejected(AdaptiveThrottle throttle, double dropRatio) {
                        if (Thread.currentThread().getName().equals("blocked-caller")) {
                            blocked.countDown();
                            try {
                                release.await(30, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }
                }).build();
        feed(t, 0, 0);
        for (int i = 0; i < 20; i++) {
            Permit p = t.tryAcquire();
            if (p.isPermitted()) {
                p.onFailure(new IOException("down"));
            }
        }
        Thread caller = new Thread(() -> t.tryAcquire(), "blocked-caller");
        caller.start();
        assertTrue(blocked.await(30, TimeUnit.SECONDS));
        long start = System.nanoTime();
        for (int i = 0; i < 1_000; i++) { // no lock: other callers go on while that listener blocks
            Permit p = t.tryAcquire();
            if (p.isPermitted()) {
                p.onSuccess();
            }
        }
        assertTrue(t.stats().requests() > 1_000, "every other call was counted");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "other callers were not held up");
        release.countDown();
        caller.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(caller.isAlive());
    }

    @Test
    void badSettingsFailFastNamingTheParameter() {
        assertEquals("k must be a finite number of at least 1: 0.9",
                assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").k(0.9)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").k(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").k(Double.POSITIVE_INFINITY));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").lowerKWhileFailing(0.5))
                .getMessage().startsWith("minK"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").k(1.2).lowerKWhileFailing(1.3)
                .build()).getMessage().startsWith("minK must not be above k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").protection(-1))
                .getMessage().startsWith("protection"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").window(Duration.ZERO, 10))
                .getMessage().startsWith("length"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").window(Duration.ofSeconds(1), 0))
                .getMessage().startsWith("buckets"));
        assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").window(Duration.ofNanos(100), 10));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").forcedPassInterval(Duration.ZERO))
                .getMessage().startsWith("interval"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AdaptiveThrottle.builder("x").recoveryTime(Duration.ofNanos(-1)))
                .getMessage().startsWith("time"));
        assertThrows(NullPointerException.class, () -> AdaptiveThrottle.builder(null));
        assertThrows(NullPointerException.class, () -> AdaptiveThrottle.builder("x").random(null));
        assertThrows(IllegalStateException.class, () -> AdaptiveThrottle.builder("x").isSuccessful(e -> true).isSuccessful(e -> true));
        // Huge windows saturate instead of wrapping.
        AdaptiveThrottle huge = AdaptiveThrottle.builder("huge").window(Duration.ofSeconds(Long.MAX_VALUE), 40).build();
        assertTrue(huge.tryAcquire().isPermitted());
    }

    @Test
    void aPassWhileDroppingPostponesTheForcedPass() {
        double[] draw = {1.0};
        AdaptiveThrottle t = AdaptiveThrottle.builder("pass").ticker(ticker).random(() -> draw[0])
                .recoveryScaling(false).build();
        feed(t, 0, 100); // at t = 0: the ratio is about 0.94
        ticker.advance(Duration.ofMillis(900));
        assertTrue(t.tryAcquire().isPermitted(), "the random source lets this one through (0.9 s)");
        draw[0] = 0.0;
        ticker.advance(Duration.ofMillis(600)); // 1.5 s: 1.5 s after the start, 0.6 s after that pass
        assertFalse(t.tryAcquire().isPermitted(), "the forced pass counts from the last pass, not from the start");
        ticker.advance(Duration.ofMillis(400)); // 1.9 s: a second after the last pass
        assertTrue(t.tryAcquire().isPermitted());
    }

    @Test
    void concurrentCallsShareOneForcedPass() throws Exception {
        AdaptiveThrottle t = AdaptiveThrottle.builder("one-pass").ticker(ticker).random(() -> 0.0).recoveryScaling(false).build();
        for (int i = 0; i < 100; i++) {
            Permit p = t.tryAcquire();
            if (p.isPermitted()) {
                p.onFailure(new IOException("down"));
            }
        }
        for (int round = 0; round < 50; round++) {
            ticker.advance(Duration.ofSeconds(1));
            AtomicInteger passed = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int c = 0; c < 100; c++) {
                        Permit p = t.tryAcquire();
                        if (p.isPermitted()) {
                            passed.incrementAndGet();
                            p.release();
                        }
                    }
                });
                th.start();
                threads.add(th);
            }
            go.countDown();
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(30));
                assertFalse(th.isAlive(), "round " + round + ": a caller did not finish");
            }
            assertEquals(1, passed.get(), "round " + round + ": one forced pass per second, whatever the threads");
        }
    }

    @Test
    void theRunsOfWorkingAndFailingBucketsSkipQuietBucketsAndScaleOverTheCompletedOnes() {
        double[] draw = {1.0};
        AdaptiveThrottle t = AdaptiveThrottle.builder("runs").ticker(ticker).random(() -> draw[0])
                .forcedPassInterval(Duration.ofDays(1)).protection(0).build();
        feed(t, 0, 60);                   // bucket 0: refusals
        ticker.advance(BUCKET);
        feed(t, 2, 0);                    // bucket 1: accepts only
        ticker.advance(BUCKET);           // bucket 2: no traffic, which breaks no run
        ticker.advance(BUCKET);
        draw[0] = 0.0;
        for (int i = 0; i < 3; i++) {     // bucket 3: only calls the throttle dropped, no accept: not working
            assertFalse(t.tryAcquire().isPermitted());
        }
        draw[0] = 1.0;
        ticker.advance(BUCKET);
        feed(t, 3, 0);                    // bucket 4: accepts only
        ticker.advance(BUCKET);           // bucket 5, current: the runs are over buckets 0-4
        AdaptiveThrottle.Stats s = t.stats();
        assertEquals(68, s.requests(), s.toString());
        double raw = (68 - 0 - 1.5 * 5) / 69.0;
        assertEquals(raw * (8 - 2) / 8, t.dropRatio(), 1e-9, "two working buckets (1 and 4) of the 8 of recoveryTime's 2 s");
    }

    @Test
    void theRecoverySpanIsRecoveryTimeInWholeBucketsAtMostTheCompletedOnes() {
        for (Object[] c : new Object[][] {{Duration.ofMillis(1), 1}, {Duration.ofMillis(251), 2}, {Duration.ofSeconds(1), 4},
                {Duration.ofSeconds(10), 39}, {Duration.ofDays(1), 39}}) {
            ManualTicker clock = new ManualTicker();
            AdaptiveThrottle t = AdaptiveThrottle.builder("span").ticker(clock).random(() -> 1.0)
                    .forcedPassInterval(Duration.ofDays(1)).protection(0).recoveryTime((Duration) c[0]).build();
            feed(t, 0, 60);               // bucket 0: refusals
            clock.advance(BUCKET);
            feed(t, 1, 0);                // bucket 1: accepts only, a run of one
            clock.advance(BUCKET);
            double raw = (61 - 1.5) / 62.0;
            int span = (Integer) c[1];
            assertEquals(raw * Math.max(0, span - 1) / span, t.dropRatio(), 1e-9, "recoveryTime " + c[0]);
        }
    }

    @Test
    void aPeriodFromAnEarlierLapOfTheRingIsNotCounted() {
        AdaptiveThrottle t = quiet("laps").recoveryScaling(false).build();
        ticker.advance(BUCKET);           // epoch 1
        feed(t, 0, 50);
        ticker.set(50 * BUCKET.toNanos() + 1); // epoch 50: the window is 11..50, and 41 uses the slot of 1
        assertEquals(0.0, t.dropRatio());
        assertEquals(0, t.stats().requests());
    }

    @Test
    void goingBackInTimeLosesNothing() {
        AdaptiveThrottle t = quiet("back-and-forth").recoveryScaling(false).build();
        ticker.set(Duration.ofSeconds(5).toNanos());
        feed(t, 0, 10);
        ticker.set(Duration.ofSeconds(1).toNanos());
        feed(t, 0, 10);
        ticker.set(Duration.ofMillis(5_100).toNanos());
        assertEquals(20, t.stats().requests());
        assertEquals(15.0 / 21, t.dropRatio(), 1e-9);
    }

    @Test
    void aTickerNearItsWrapKeepsTheWindowRolling() {
        ManualTicker wrapping = new ManualTicker(Long.MAX_VALUE - Duration.ofSeconds(1).toNanos());
        AdaptiveThrottle t = AdaptiveThrottle.builder("wrap").ticker(wrapping).random(() -> 1.0)
                .forcedPassInterval(Duration.ofDays(1)).recoveryScaling(false).build();
        feed(t, 0, 100);
        assertTrue(t.dropRatio() > 0.9);
        wrapping.advance(Duration.ofSeconds(5)); // past Long.MAX_VALUE
        assertTrue(t.dropRatio() > 0.9, "still in the window");
        wrapping.advance(Duration.ofSeconds(6));
        assertEquals(0.0, t.dropRatio(), "aged out after the wrap");
        assertEquals(0, t.stats().requests());
    }

    @Test
    void outcomesAreAllCountedWhileBucketsRollUnderConcurrency() throws Exception {
        // 1 ms buckets, a 1 s window; the clock moves 1 ms at a time for 900 ms while 4 threads record
        // outcomes: every period stays in the window, so every outcome must be there.
        AdaptiveThrottle t = AdaptiveThrottle.builder("rolling-stress").ticker(ticker).window(Duration.ofSeconds(1), 1000)
                .random(() -> 1.0).forcedPassInterval(Duration.ofDays(1)).k(1000).build();
        AtomicLong recorded = new AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Thread th = new Thread(() -> {
                while (!stop.get()) {
                    Permit p = t.tryAcquire();
                    if (p.isPermitted()) {
                        p.onFailure(new IOException("x"));
                        recorded.incrementAndGet();
                    }
                }
            });
            th.start();
            workers.add(th);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int ms = 0; ms < 900; ms++) {
            long before = recorded.get();
            while (recorded.get() - before < 20 && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait(); // let some outcomes land in this period before moving on
            }
            ticker.advance(Duration.ofMillis(1));
        }
        assertTrue(System.nanoTime() - deadline < 0, "the callers kept recording outcomes (60 s bound)");
        stop.set(true);
        for (Thread th : workers) {
            th.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(th.isAlive());
        }
        assertEquals(recorded.get(), t.stats().requests(), "nothing lost to a bucket being recycled");
        assertEquals(recorded.get(), t.stats().failures());
    }

    @Test
    void concurrentCallsAreAllCounted() throws Exception {
        AtomicLong rejected = new AtomicLong();
        AtomicLong accepted = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AdaptiveThrottle t = AdaptiveThrottle.builder("stress").ticker(ticker).protection(0).k(1.0)
                .forcedPassInterval(Duration.ofDays(1)).build();
        int threads = 4;
        int each = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int id = w;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                Random r = new Random(id);
                for (int i = 0; i < each; i++) {
                    Permit p = t.tryAcquire();
                    if (!p.isPermitted()) {
                        rejected.incrementAndGet();
                    } else if (r.nextBoolean()) {
                        p.onSuccess();
                        accepted.incrementAndGet();
                    } else {
                        p.onFailure(new IOException("x"));
                        failed.incrementAndGet();
                    }
                }
            });
            th.start();
            workers.add(th);
        }
        start.countDown();
        for (Thread th : workers) {
            th.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(th.isAlive());
        }
        AdaptiveThrottle.Stats s = t.stats();
        assertEquals(threads * each, accepted.get() + failed.get() + rejected.get());
        assertEquals(threads * each, s.requests(), "every call counted once: " + s);
        assertEquals(accepted.get(), s.accepts());
        assertEquals(failed.get(), s.failures());
        assertTrue(rejected.get() > 0, "half the calls fail, so with K 1 some were dropped");
    }
}
