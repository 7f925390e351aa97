package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ManualTicker;
import dev.resilience.core.CircuitBreaker.Counts;
import dev.resilience.core.Permit;
import dev.resilience.core.CircuitBreaker.State;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** gobreaker v2 behaviours, the Resilience4j-style rate windows, control, and races. */
class CircuitBreakerTest {

    private static final IOException BOOM = new IOException("boom");

    private final ManualTicker ticker = new ManualTicker(123);
    private final List<String> transitions = Collections.synchronizedList(new ArrayList<>());
    private final CircuitBreakerListener recorder = new CircuitBreakerListener() {
        @Override
        public void onStateChange(CircuitBreaker breaker, State from, State to) {
            transitions.add(from + "->" + to);
        }
    };
    private final ExecutorService pool = Executors.newFixedThreadPool(10);

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    private CircuitBreaker.Builder builder() {
        return CircuitBreaker.builder("cb").ticker(ticker).listener(recorder);
    }

    /** {@code times} failed calls, each of them admitted. */
    static void fail(CircuitBreaker cb, int times) {
        for (int i = 0; i < times; i++) {
            Permit p = cb.tryAcquire();
            assertTrue(p.isPermitted());
            p.onFailure(BOOM);
        }
    }

    /** {@code times} successful calls, each of them admitted. */
    static void succeed(CircuitBreaker cb, int times) {
        for (int i = 0; i < times; i++) {
            Permit p = cb.tryAcquire();
            assertTrue(p.isPermitted());
            p.onSuccess();
        }
    }

    @Test
    void defaultTripsAfterMoreThanFiveConsecutiveFailures() {
        CircuitBreaker cb = builder().build();
        fail(cb, 5);
        assertEquals(State.CLOSED, cb.state());
        assertEquals(new Counts(5, 0, 5, 0, 0, 5), cb.counts());
        succeed(cb, 1);
        assertEquals(new Counts(6, 1, 5, 0, 1, 0), cb.counts(), "a success resets consecutive failures");
        fail(cb, 5);
        assertEquals(State.CLOSED, cb.state());
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state());
        assertEquals(List.of("CLOSED->OPEN"), transitions);
        assertEquals(new Counts(0, 0, 0, 0, 0, 0), cb.counts(), "a new generation starts with fresh counts");
    }

    @Test
    void aTickerSetFarBackWhileOpenDelaysHalfOpenByAsMuchAndNothingThrows() {
        // outside Ticker's contract (readings never go back), documented on ManualTicker.set
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(30)).build();
        fail(cb, 6);
        assertEquals(State.OPEN, cb.state());
        long back = Duration.ofDays(300).toNanos();
        ticker.set(ticker.read() - back);
        ticker.advance(Duration.ofSeconds(31));
        assertFalse(cb.tryAcquire().isPermitted(), "still open: its expiry lies 300 days ahead now");
        assertEquals(State.OPEN, cb.state());
        ticker.advance(back - Duration.ofSeconds(2).toNanos());
        assertEquals(State.OPEN, cb.state());
        ticker.advance(Duration.ofSeconds(2));
        assertEquals(State.HALF_OPEN, cb.state(), "due once the reading is past where it was + 30 s");
    }

    @Test
    void openRefusesWithAValueAndCallThrowsWithoutStackTrace() throws Exception {
        CircuitBreaker cb = builder().build();
        fail(cb, 6);
        Permit p = cb.tryAcquire();
        assertFalse(p.isPermitted());
        p.onSuccess();
        assertEquals(State.OPEN, cb.state(), "reporting on a refusal does nothing");
        CallNotPermittedException e = assertThrows(CallNotPermittedException.class, () -> cb.call(() -> "x"));
        assertEquals(State.OPEN, e.state());
        assertEquals("cb", e.breaker());
        assertEquals(0, e.getStackTrace().length);
    }

    @Test
    void openTurnsHalfOpenLazilyAfterTheTimeout() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(10)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(10).minusNanos(1));
        assertEquals(State.OPEN, cb.state());
        assertFalse(cb.tryAcquire().isPermitted());
        ticker.advance(1);
        assertEquals(State.HALF_OPEN, cb.state());
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN"), transitions);
    }

    @Test
    void halfOpenAdmitsMaxRequestsAndClosesAfterThatManySuccesses() {
        CircuitBreaker cb = builder().maxRequests(3).openDuration(Duration.ofSeconds(1)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit a = cb.tryAcquire();
        Permit b = cb.tryAcquire();
        Permit c = cb.tryAcquire();
        assertTrue(a.isPermitted() && b.isPermitted() && c.isPermitted());
        assertFalse(cb.tryAcquire().isPermitted(), "the half-open admission cap");
        assertEquals(3, cb.counts().requests());
        a.onSuccess();
        b.onSuccess();
        assertEquals(State.HALF_OPEN, cb.state());
        c.onSuccess();
        assertEquals(State.CLOSED, cb.state());
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED"), transitions);
    }

    @Test
    void anyHalfOpenFailureReopens() {
        CircuitBreaker cb = builder().maxRequests(3).openDuration(Duration.ofSeconds(1)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit a = cb.tryAcquire();
        Permit b = cb.tryAcquire();
        a.onSuccess();
        b.onFailure(BOOM);
        assertEquals(State.OPEN, cb.state());
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->OPEN"), transitions);
    }

    @Test
    void exclusionsDoNotUseHalfOpenSlotsAndDoNotCount() {
        CircuitBreaker cb = builder().maxRequests(1).openDuration(Duration.ofSeconds(1))
                .isExcluded(e -> e instanceof IllegalArgumentException).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit probe = cb.tryAcquire();
        assertFalse(cb.tryAcquire().isPermitted());
        probe.onFailure(new IllegalArgumentException("client error"));
        assertEquals(State.HALF_OPEN, cb.state());
        assertEquals(1, cb.counts().totalExclusions());
        Permit again = cb.tryAcquire();
        assertTrue(again.isPermitted(), "the excluded probe gave its slot back");
        again.onSuccess();
        assertEquals(State.CLOSED, cb.state());
    }

    @Test
    void releasedPermitFreesItsHalfOpenSlot() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit probe = cb.tryAcquire();
        assertFalse(cb.tryAcquire().isPermitted());
        probe.release();
        assertTrue(cb.tryAcquire().isPermitted());
    }

    @Test
    void neverCompletedProbeDoesNotWedgeHalfOpen() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).halfOpenTimeout(Duration.ofSeconds(5)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit lost = cb.tryAcquire();
        assertTrue(lost.isPermitted());
        ticker.advance(Duration.ofSeconds(5));
        assertEquals(State.OPEN, cb.state(), "the silent probe counts as a failed probe");
        ticker.advance(Duration.ofSeconds(1));
        Permit fresh = cb.tryAcquire();
        assertTrue(fresh.isPermitted());
        lost.onFailure(BOOM);
        assertEquals(State.HALF_OPEN, cb.state(), "the late report of an old generation is ignored");
        fresh.onSuccess();
        assertEquals(State.CLOSED, cb.state());
    }

    @Test
    void resultsOfAnEarlierGenerationAreIgnored() {
        CircuitBreaker cb = builder().build();
        Permit early = cb.tryAcquire();
        fail(cb, 6);
        assertEquals(State.OPEN, cb.state());
        cb.reset();
        succeed(cb, 2);
        early.onFailure(BOOM);
        assertEquals(new Counts(2, 2, 0, 0, 2, 0), cb.counts());
    }

    @Test
    void intervalClearsClosedCounts() {
        CircuitBreaker cb = builder().interval(Duration.ofSeconds(10)).build();
        Permit early = cb.tryAcquire();
        fail(cb, 5);
        ticker.advance(Duration.ofSeconds(10));
        assertEquals(new Counts(0, 0, 0, 0, 0, 0), cb.counts());
        early.onFailure(BOOM);
        fail(cb, 5);
        assertEquals(State.CLOSED, cb.state(), "the old generation's failures did not carry over");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state());
    }

    @Test
    void rollingIntervalDropsOldBucketsWithoutANewGeneration() {
        CircuitBreaker cb = builder().interval(Duration.ofSeconds(10), Duration.ofSeconds(1))
                .readyToTrip(c -> c.totalFailures() >= 5).build();
        Permit early = cb.tryAcquire();
        fail(cb, 3);
        ticker.advance(Duration.ofSeconds(5));
        succeed(cb, 1);
        fail(cb, 1);
        assertEquals(new Counts(5, 1, 4, 0, 0, 1), cb.counts());
        ticker.advance(Duration.ofSeconds(5));
        assertEquals(new Counts(2, 1, 1, 0, 0, 1), cb.counts(), "the first bucket rolled out");
        early.onFailure(BOOM);
        assertEquals(2, cb.counts().totalFailures(), "same generation: the early permit still counts");
        fail(cb, 2);
        assertEquals(State.CLOSED, cb.state(), "4 failures in the last 10 s");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "5 failures in the last 10 s");
        assertThrows(IllegalArgumentException.class,
                () -> builder().interval(Duration.ofSeconds(10), Duration.ofSeconds(3)));
    }

    @Test
    void customReadyToTripOnRatioTrips() {
        CircuitBreaker cb = builder()
                .readyToTrip(c -> c.requests() >= 3 && (double) c.totalFailures() / c.requests() >= 0.6).build();
        fail(cb, 1);
        succeed(cb, 2);
        fail(cb, 1);
        assertEquals(State.CLOSED, cb.state(), "2 of 4 failed: below 0.6");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "3 of 5 failed: 0.6");
    }

    @Test
    void isSuccessfulTurnsExceptionsIntoSuccesses() {
        CircuitBreaker cb = builder().isSuccessful(e -> e instanceof IllegalStateException).build();
        for (int i = 0; i < 10; i++) {
            cb.tryAcquire().onFailure(new IllegalStateException("fine"));
        }
        assertEquals(State.CLOSED, cb.state());
        assertEquals(10, cb.counts().totalSuccesses());
    }

    @Test
    void cancellationByTheCallerIsExcludedByDefault() throws Exception {
        CircuitBreaker cb = builder().build();
        for (int i = 0; i < 10; i++) {
            assertThrows(InterruptedException.class, () -> cb.call(() -> {
                throw new InterruptedException();
            }));
        }
        CancelHandle caller = Context.background().withCancel();
        caller.cancel();
        ContextCancelledException cancelled = (ContextCancelledException) caller.context().err();
        for (int i = 0; i < 10; i++) {
            assertSame(cancelled, assertThrows(ContextCancelledException.class, () -> cb.call(() -> {
                throw cancelled;
            })));
        }
        assertEquals(State.CLOSED, cb.state());
        assertEquals(20, cb.counts().totalExclusions(), "interrupts and context cancellations are both excluded");
        assertEquals(0, cb.counts().totalFailures());
    }

    @Test
    void failureRateOverCountWindowWithMinimumCalls() {
        CircuitBreaker cb = builder().readyToTrip(c -> false).failureRateThreshold(50, 10).countWindow(10).build();
        fail(cb, 5);
        succeed(cb, 4);
        assertEquals(State.CLOSED, cb.state(), "fewer than the minimum number of calls");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "6 of 10 failed");
    }

    @Test
    void aRateThresholdReplacesTheDefaultRunOfFailures() {
        // As in Resilience4j: a breaker given a failure rate trips on the rate alone. Seven failures in
        // a row among 100 calls are 7 %, far under 50 %: it stays closed (it used to open on the sixth).
        CircuitBreaker rateOnly = builder().failureRateThreshold(50, 20).countWindow(100).build();
        succeed(rateOnly, 50);
        fail(rateOnly, 7);
        succeed(rateOnly, 43);
        assertEquals(State.CLOSED, rateOnly.state(), "7 of 100 failed, in a row");
        fail(rateOnly, 42); // the window slides: 49 of the last 100 failed
        assertEquals(State.CLOSED, rateOnly.state(), "49 %");
        fail(rateOnly, 1);
        assertEquals(State.OPEN, rateOnly.state(), "50 of the last 100: the rate trips it");

        // Both, when both are asked for.
        CircuitBreaker both = builder().readyToTrip(c -> c.consecutiveFailures() > 5)
                .failureRateThreshold(50, 20).countWindow(100).build();
        succeed(both, 50);
        fail(both, 6);
        assertEquals(State.OPEN, both.state(), "six in a row, readyToTrip given");

        // And without a rate threshold, gobreaker's default stays.
        CircuitBreaker plain = builder().build();
        fail(plain, 5);
        assertEquals(State.CLOSED, plain.state());
        fail(plain, 1);
        assertEquals(State.OPEN, plain.state(), "more than 5 consecutive failures");
    }

    @Test
    void countWindowForgetsOldCalls() {
        CircuitBreaker cb = builder().readyToTrip(c -> false).failureRateThreshold(50, 4).countWindow(4).build();
        fail(cb, 1);
        succeed(cb, 4);
        fail(cb, 1);
        assertEquals(State.CLOSED, cb.state(), "the first failure left the window: 1 of 4");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "2 of 4");
    }

    @Test
    void slowCallRateTrips() {
        CircuitBreaker cb = builder().slowCallRateThreshold(50, Duration.ofMillis(100), 4).countWindow(4).build();
        for (int i = 0; i < 2; i++) {
            Permit p = cb.tryAcquire();
            ticker.advance(Duration.ofMillis(10));
            p.onSuccess();
        }
        Permit slow1 = cb.tryAcquire();
        ticker.advance(Duration.ofMillis(100));
        slow1.onSuccess();
        assertEquals(State.CLOSED, cb.state());
        Permit slow2 = cb.tryAcquire();
        ticker.advance(Duration.ofMillis(150));
        slow2.onSuccess();
        assertEquals(State.OPEN, cb.state(), "2 of 4 calls were slow");
    }

    @Test
    void timeWindowEvictsOldBuckets() {
        CircuitBreaker cb = builder().readyToTrip(c -> false)
                .failureRateThreshold(50, 4).timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(1)).build();
        fail(cb, 3);
        ticker.advance(Duration.ofSeconds(10));
        succeed(cb, 3);
        fail(cb, 1);
        assertEquals(State.CLOSED, cb.state(), "the 3 failures of 10 s ago left the window: 1 of 4");
        fail(cb, 2);
        assertEquals(State.OPEN, cb.state(), "3 of 6");
    }

    @Test
    void aTimeWindowKeepsCountingWhenTheTickerWrapsPastLongMax() {
        // A Ticker may start anywhere: periods numbered from the raw reading jumped from about +9.2e9
        // to -9.2e9 at the wrap, every bucket stamped before it then looked newer than the present
        // and dropped each increment, and the breaker never tripped again.
        ManualTicker wrapping = new ManualTicker(Long.MAX_VALUE - Duration.ofSeconds(5).toNanos());
        CircuitBreaker cb = CircuitBreaker.builder("wrap").ticker(wrapping).readyToTrip(c -> false)
                .failureRateThreshold(50, 4).timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(1)).build();
        for (int second = 0; second < 8; second++) { // fills every bucket before the wrap and past it
            succeed(cb, 1);
            wrapping.advance(Duration.ofSeconds(1));
        }
        assertTrue(wrapping.read() < 0, "the ticker wrapped");
        assertEquals(State.CLOSED, cb.state(), "8 successes");
        fail(cb, 7);
        assertEquals(State.CLOSED, cb.state(), "7 failures of 15 calls is under 50 %");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "8 of 16 trips it: counted only if the buckets stamped before "
                + "the wrap are still in order (before, the failures after the wrap were dropped)");
    }

    @Test
    void aRollingIntervalKeepsCountingWhenTheTickerWrapsPastLongMax() {
        ManualTicker wrapping = new ManualTicker(Long.MAX_VALUE - Duration.ofSeconds(5).toNanos());
        List<Long> failuresSeen = new ArrayList<>();
        CircuitBreaker cb = CircuitBreaker.builder("wrap").ticker(wrapping)
                .interval(Duration.ofSeconds(10), Duration.ofSeconds(1))
                .readyToTrip(c -> {
                    failuresSeen.add(c.totalFailures());
                    return false;
                }).build();
        for (int second = 0; second < 8; second++) {
            fail(cb, 1);
            wrapping.advance(Duration.ofSeconds(1));
        }
        assertTrue(wrapping.read() < 0, "the ticker wrapped");
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), failuresSeen,
                "the rolling totals count on across the wrap");
    }

    @Test
    void openDurationGrowsOnRepeatedTripsAndResetsOnClose() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).openBackoff(2.0, Duration.ofSeconds(3)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        fail(cb, 1);
        ticker.advance(Duration.ofMillis(1999));
        assertEquals(State.OPEN, cb.state(), "second trip: 2 s");
        ticker.advance(Duration.ofMillis(1));
        fail(cb, 1);
        ticker.advance(Duration.ofMillis(2999));
        assertEquals(State.OPEN, cb.state(), "third trip: 4 s capped at 3 s");
        ticker.advance(Duration.ofMillis(1));
        succeed(cb, 1);
        assertEquals(State.CLOSED, cb.state());
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(State.HALF_OPEN, cb.state(), "closing forgot the earlier trips");
    }

    @Test
    void forceOpenDisableAndReset() throws Exception {
        CircuitBreaker cb = builder().build();
        cb.forceOpen();
        assertEquals(State.FORCED_OPEN, cb.state());
        ticker.advance(Duration.ofDays(1));
        assertFalse(cb.tryAcquire().isPermitted());
        assertEquals(State.FORCED_OPEN, assertThrows(CallNotPermittedException.class, () -> cb.call(() -> 1)).state());
        cb.disable();
        assertEquals(State.DISABLED, cb.state());
        fail(cb, 100);
        assertEquals(State.DISABLED, cb.state());
        cb.reset();
        assertEquals(State.CLOSED, cb.state());
        assertEquals(List.of("CLOSED->FORCED_OPEN", "FORCED_OPEN->DISABLED", "DISABLED->CLOSED"), transitions);
    }

    @Test
    void aDisabledBreakerCountsNothingAndAsksNoPredicate() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger asked = new AtomicInteger();
        CircuitBreaker cb = builder()
                .isSuccessful(e -> asked.incrementAndGet() < 0)
                .isExcluded(e -> asked.incrementAndGet() < 0 || e instanceof IllegalStateException)
                .listener(new CircuitBreakerListener() {
                    @Override
                    public void onSuccess(CircuitBreaker breaker) {
                        events.add("success");
                    }

                    @Override
                    public void onFailure(CircuitBreaker breaker, Throwable failure) {
                        events.add("failure");
                    }

                    @Override
                    public void onExcluded(CircuitBreaker breaker, Throwable failure) {
                        events.add("excluded");
                    }
                })
                .build();
        cb.disable();
        fail(cb, 10);
        succeed(cb, 3);
        cb.tryAcquire().onExcluded();
        cb.tryAcquire().onFailure(new IllegalStateException("excluded by the predicate"));
        assertThrows(IOException.class, () -> cb.call(() -> {
            throw BOOM;
        }));
        assertEquals(1, cb.call(() -> 1));
        CompletableFuture<Integer> failed = CompletableFuture.failedFuture(BOOM);
        assertThrows(ExecutionException.class, () -> cb.callAsync(() -> failed).toCompletableFuture().get());
        assertThrows(NullPointerException.class, () -> cb.tryAcquire().onFailure(null));
        assertEquals(new Counts(0, 0, 0, 0, 0, 0), cb.counts());
        assertEquals(List.of(), events);
        assertEquals(0, asked.get(), "a disabled breaker asked its predicates");
        cb.reset();
        assertEquals(new Counts(0, 0, 0, 0, 0, 0), cb.counts());
        fail(cb, 1);
        assertEquals(List.of("failure"), events);
    }

    @Test
    void callRunAndCallAsyncRecordOutcomes() throws Exception {
        CircuitBreaker cb = builder().build();
        assertEquals("x", cb.call(() -> "x"));
        assertSame(BOOM, assertThrows(IOException.class, () -> cb.call(() -> {
            throw BOOM;
        })));
        AtomicInteger ran = new AtomicInteger();
        cb.run(ran::incrementAndGet);
        assertEquals(1, ran.get());
        CompletableFuture<String> work = new CompletableFuture<>();
        CompletableFuture<String> r = cb.callAsync(() -> work).toCompletableFuture();
        work.completeExceptionally(BOOM);
        assertTrue(r.isCompletedExceptionally());
        CompletableFuture<String> cancelled = new CompletableFuture<>();
        cb.callAsync(() -> cancelled);
        cancelled.cancel(true);
        assertEquals(new Counts(4, 2, 2, 0, 0, 1), cb.counts(), "the cancelled call counted nothing");
        cb.forceOpen();
        assertTrue(cb.callAsync(() -> CompletableFuture.completedFuture(1)).toCompletableFuture()
                .isCompletedExceptionally());
    }

    @Test
    void countsAddUpUnderTenThreadsTimesTenThousandCalls() throws Exception {
        countsAddUp(CircuitBreaker.builder("race").readyToTrip(c -> false).build());
    }

    @Test
    void countsAddUpWithACountWindowToo() throws Exception {
        countsAddUp(CircuitBreaker.builder("race-window").readyToTrip(c -> false)
                .failureRateThreshold(90, 10).countWindow(100).build());
    }

    private void countsAddUp(CircuitBreaker cb) throws Exception {
        CyclicBarrier go = new CyclicBarrier(10);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int t = 0; t < 10; t++) {
            int id = t;
            all.add(CompletableFuture.runAsync(() -> {
                await(go);
                for (int i = 0; i < 10_000; i++) {
                    Permit p = cb.tryAcquire();
                    if ((i + id) % 3 == 0) {
                        p.onFailure(BOOM);
                    } else if ((i + id) % 7 == 0) {
                        p.onExcluded();
                    } else {
                        p.onSuccess();
                    }
                }
            }, pool));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(60, TimeUnit.SECONDS);
        }
        int failures = 0;
        int exclusions = 0;
        for (int t = 0; t < 10; t++) {
            for (int i = 0; i < 10_000; i++) {
                if ((i + t) % 3 == 0) {
                    failures++;
                } else if ((i + t) % 7 == 0) {
                    exclusions++;
                }
            }
        }
        Counts c = cb.counts();
        assertEquals(failures, c.totalFailures());
        assertEquals(exclusions, c.totalExclusions());
        assertEquals(100_000 - failures - exclusions, c.totalSuccesses());
        assertEquals(c.totalSuccesses() + c.totalFailures() + c.totalExclusions(), c.requests(),
                "gobreaker v2: requests include exclusions");
    }

    @Test
    void aTripRacedByManyThreadsHappensExactlyOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            transitions.clear();
            CircuitBreaker cb = builder().readyToTrip(c -> c.totalFailures() >= 3).build();
            CyclicBarrier go = new CyclicBarrier(10);
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < 10; t++) {
                all.add(CompletableFuture.runAsync(() -> {
                    Permit p = cb.tryAcquire();
                    await(go);
                    p.onFailure(BOOM);
                }, pool));
            }
            for (CompletableFuture<Void> f : all) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(List.of("CLOSED->OPEN"), transitions, "round " + round);
        }
    }

    @Test
    void badArguments() {
        assertEquals("name", assertThrows(NullPointerException.class, () -> CircuitBreaker.builder(null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> builder().maxRequests(0));
        assertThrows(IllegalArgumentException.class, () -> builder().openDuration(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> builder().interval(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> builder().openBackoff(0.5, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> builder().openBackoff(Double.NaN, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> builder().failureRateThreshold(0, 1));
        assertThrows(IllegalArgumentException.class, () -> builder().failureRateThreshold(101, 1));
        assertThrows(IllegalArgumentException.class, () -> builder().failureRateThreshold(50, 0));
        assertThrows(IllegalArgumentException.class, () -> builder().countWindow(0));
        assertThrows(IllegalArgumentException.class,
                () -> builder().timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(3)));
        assertThrows(IllegalStateException.class, () -> builder().failureRateThreshold(50, 1).build());
        assertThrows(IllegalStateException.class, () -> builder().countWindow(10).build());
        assertThrows(IllegalStateException.class, () -> builder().openDuration(Duration.ofSeconds(1)).openDuration(Duration.ofSeconds(2)));
        assertEquals("openDuration", assertThrows(NullPointerException.class, () -> builder().openDuration(null)).getMessage());
        CircuitBreaker cb = builder().build();
        assertEquals("failure", assertThrows(NullPointerException.class, () -> cb.tryAcquire().onFailure(null))
                .getMessage());
        assertEquals("task", assertThrows(NullPointerException.class, () -> cb.call(null)).getMessage());
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Four threads on two cores, each failing every tenth call: no run of six failures can happen in
     * any interleaving (each thread succeeds nine times between its failures), so the default
     * "more than 5 consecutive failures" must never trip. A thread preempted between reading the
     * failure count and writing it as "failures at the last success" used to write a stale, lower
     * value over later ones, and the next failure then saw a long run of failures that never
     * happened: seen as the breaker opening in a 2-thread benchmark with 10 % failures.
     */
    @Test
    void racingSuccessesNeverMakeUpARunOfFailures() throws Exception {
        for (CircuitBreaker b : List.of(CircuitBreaker.builder("plain").build(),
                CircuitBreaker.builder("count").failureRateThreshold(50, 100).countWindow(100).build(),
                CircuitBreaker.builder("time").failureRateThreshold(50, 100)
                        .timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(1)).build())) {
            AtomicInteger trips = new AtomicInteger();
            b.addListener(new CircuitBreakerListener() {
                @Override
                public void onStateChange(CircuitBreaker breaker, State from, State to) {
                    trips.incrementAndGet();
                }
            });
            int threads = 4;
            CyclicBarrier go = new CyclicBarrier(threads);
            List<CompletableFuture<Void>> all = new ArrayList<>();
            IOException failed = new IOException("every tenth");
            for (int t = 0; t < threads; t++) {
                all.add(CompletableFuture.runAsync(() -> {
                    try {
                        go.await();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 1; i <= 3_000_000 && trips.get() == 0; i++) {
                        Permit p = b.tryAcquire();
                        if (i % 10 == 0) {
                            p.onFailure(failed);
                        } else {
                            p.onSuccess();
                        }
                    }
                }, pool));
            }
            for (CompletableFuture<Void> f : all) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(0, trips.get(), b + ": " + b.counts());
            assertEquals(State.CLOSED, b.state());
        }
    }
}
