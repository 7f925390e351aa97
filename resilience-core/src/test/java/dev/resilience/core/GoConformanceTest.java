package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * x/time/rate and gobreaker v2 where the README promises their semantics, arithmetic that must
 * saturate instead of wrapping, and policies that must not leave listeners on a long-lived context.
 */
class GoConformanceTest {

    private static final long MS = 1_000_000L;
    private final ManualTicker ticker = new ManualTicker();

    @Test
    void reservationsNeverWrapPastTheHorizon() {
        RateLimiter hourly = RateLimiter.builder("h").rate(1.0 / 3600).burst(1000).ticker(ticker).build();
        long previous = -1;
        int refused = 0;
        for (int i = 0; i < 2_565; i++) {
            RateLimiter.Reservation r = hourly.reserve(1000);
            if (!r.isOk()) {
                refused++;
                continue;
            }
            assertEquals(0, refused, "once beyond the horizon, never ok again");
            assertTrue(r.delayNanos() >= previous, "delays only grow: " + r.delayNanos() + " after " + previous);
            previous = r.delayNanos();
        }
        assertTrue(refused > 0, "reservations beyond 2^62 ns are refused");
        assertFalse(hourly.tryAcquire(), "nothing is granted");
        RateLimiter century = RateLimiter.builder("c").interval(Duration.ofDays(365 * 100)).ticker(ticker).build();
        assertTrue(century.reserve(1).isOk());
        assertFalse(century.reserve(1).isOk(), "two centuries ahead does not fit");
        assertFalse(century.reserve(1).isOk());
        assertFalse(century.tryAcquire());
    }

    @Test
    void zeroPermitsAreAlwaysGranted() throws Exception {
        RateLimiter l = RateLimiter.builder("z").rate(1).burst(1).ticker(ticker).build();
        assertTrue(l.tryAcquire());
        assertTrue(l.tryAcquire(0), "even with no permit left");
        l.acquire(0);
        RateLimiter.Reservation r = l.reserve(0);
        assertTrue(r.isOk());
        assertEquals(0, r.delayNanos());
        assertFalse(l.tryAcquire(), "and it took nothing");
    }

    @Test
    void zeroPermitsWaitOutADebtAsGoDoes() throws Exception {
        // Go: AllowN(t, 0) is false while reservations have the tokens below zero; ReserveN(t, 0)
        // acts when they are back at zero; WaitN(ctx, 0) waits for that, within the deadline.
        RateLimiter l = RateLimiter.builder("d").rate(10).burst(2).ticker(ticker).build();
        assertTrue(l.tryAcquire(2));
        RateLimiter.Reservation ahead = l.reserve(2); // 200 ms of debt
        assertTrue(ahead.isOk());
        assertFalse(l.tryAcquire(0), "in debt");
        RateLimiter.Reservation none = l.reserve(0);
        assertTrue(none.isOk());
        assertEquals(Duration.ofMillis(200).toNanos(), none.delayNanos());
        assertFalse(l.reserve(0, Duration.ofMillis(199)).isOk(), "the debt is longer than maxWait");
        assertTrue(l.reserve(0, Duration.ofMillis(200)).isOk(), "a wait of exactly maxWait is fine");
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(100), ticker);
        try (Scope ignored = h.context().attach()) {
            assertEquals(RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE,
                    assertThrows(RequestNotPermittedException.class, () -> l.acquire(0)).reason(),
                    "the debt outlasts the deadline");
        } finally {
            h.cancel();
        }
        CompletableFuture<Void> waiting = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                l.acquire(0);
                waiting.complete(null);
            } catch (Throwable e) {
                waiting.completeExceptionally(e);
            }
        });
        waiter.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (waiter.getState() != Thread.State.WAITING && waiter.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < until, "acquire(0) parks to wait out the debt: " + waiter.getState());
            Thread.onSpinWait();
        }
        ticker.advance(Duration.ofMillis(150));
        assertFalse(l.tryAcquire(0));
        assertFalse(waiting.isDone(), "acquire(0) waits out the debt");
        ticker.advance(Duration.ofMillis(50));
        waiting.get(10, TimeUnit.SECONDS);
        assertTrue(l.tryAcquire(0), "paid back");
        assertFalse(l.tryAcquire(), "and nothing taken: the next permit comes in 100 ms");
        ticker.advance(Duration.ofMillis(1));
        ahead.cancel(); // its time to act has passed: nothing comes back
        assertFalse(l.tryAcquire());
        ticker.advance(Duration.ofMillis(99));
        assertTrue(l.tryAcquire(0));
        assertTrue(l.tryAcquire());
        assertFalse(l.tryAcquire());
    }

    @Test
    void rateZeroRefillsNothingAndSetRateZeroIsAKillSwitch() throws Exception {
        RateLimiter none = RateLimiter.builder("n").rate(0).burst(3).ticker(ticker).build();
        assertEquals(0.0, none.rate());
        for (int i = 0; i < 3; i++) {
            assertTrue(none.tryAcquire(), "the burst is there");
        }
        ticker.advance(Duration.ofDays(365));
        assertFalse(none.tryAcquire(), "nothing refills");
        assertThrows(RequestNotPermittedException.class, () -> none.acquire(1));
        assertFalse(none.reserve(1).isOk(), "never available: not ok, consuming nothing");

        RateLimiter live = RateLimiter.builder("l").rate(10).burst(5).ticker(ticker).build();
        assertTrue(live.tryAcquire(2));
        live.setRate(0);
        assertEquals(3.0, live.tokens(), 1e-9, "the permits there now stay");
        assertTrue(live.tryAcquire(3));
        ticker.advance(Duration.ofMinutes(10));
        assertFalse(live.tryAcquire(), "and no more come");
        live.setRate(10);
        ticker.advance(100 * MS);
        assertTrue(live.tryAcquire(), "refilling again once the rate is back");

        RateLimiter tiny = RateLimiter.builder("t").rate(1e-10).burst(1).ticker(ticker).build();
        assertTrue(tiny.tryAcquire(), "a rate of 1e-10/s works: its burst is there");
        ticker.advance(Duration.ofDays(365 * 100));
        assertFalse(tiny.tryAcquire(), "and the next permit lies beyond the horizon");
        RateLimiter slow = RateLimiter.builder("s").rate(1e-6).burst(1).ticker(ticker).build();
        assertTrue(slow.tryAcquire());
        ticker.advance(Duration.ofSeconds(1_000_000));
        assertTrue(slow.tryAcquire(), "one permit per 11.6 days still refills");
    }

    @Test
    void aBoundedReserveRefusesConsumingNothing() {
        RateLimiter l = RateLimiter.builder("b").rate(10).burst(1).ticker(ticker).build();
        assertTrue(l.tryAcquire());
        RateLimiter.Reservation tooLong = l.reserve(1, Duration.ofMillis(50));
        assertFalse(tooLong.isOk(), "100 ms away");
        RateLimiter.Reservation exact = l.reserve(1, Duration.ofMillis(100));
        assertTrue(exact.isOk(), "a wait of exactly maxWait is fine, as in Go");
        assertEquals(100 * MS, exact.delayNanos());
        assertFalse(l.reserve(1, Duration.ofMillis(150)).isOk(), "the refused one consumed nothing: next is 200 ms away");
        assertTrue(l.reserve(1, Duration.ofMillis(200)).isOk());
    }

    @Test
    void excludedCallsCountInRequestsAsInGobreakerV2() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("b").isExcluded(e -> e instanceof IllegalArgumentException)
                .readyToTrip(c -> c.requests() - c.totalExclusions() >= 3 && c.totalFailures() >= 3).build();
        for (int i = 0; i < 3; i++) {
            assertThrows(IllegalArgumentException.class, () -> breaker.call(() -> {
                throw new IllegalArgumentException("excluded");
            }));
        }
        assertEquals(3, breaker.counts().requests());
        assertEquals(3, breaker.counts().totalExclusions());
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state(), "a readyToTrip written for gobreaker does not trip early");
    }

    @Test
    void anExcludedHalfOpenProbeFreesItsSlotWithoutCounting() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("b").ticker(ticker).openDuration(Duration.ofSeconds(1))
                .readyToTrip(c -> c.consecutiveFailures() >= 1).build();
        assertThrows(IOException.class, () -> breaker.call(() -> {
            throw new IOException("trip");
        }));
        ticker.advance(Duration.ofSeconds(1));
        assertThrows(InterruptedException.class, () -> breaker.call(() -> {
            throw new InterruptedException("the caller left");
        }));
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertEquals("probe", breaker.call(() -> "probe"));
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void localRefusalsAreExcludedWhateverIsExcludedSays() throws Exception {
        CircuitBreaker inner = CircuitBreaker.builder("inner").build();
        inner.forceOpen();
        CircuitBreaker outer = CircuitBreaker.builder("outer").isExcluded(e -> false).build();
        for (int i = 0; i < 10; i++) {
            assertThrows(CallNotPermittedException.class, () -> outer.call(() -> inner.call(() -> "x")));
            assertThrows(RequestNotPermittedException.class, () -> outer.call(() -> {
                throw new RequestNotPermittedException("l", RequestNotPermittedException.Reason.NO_PERMIT, "refused");
            }));
        }
        assertEquals(0, outer.counts().totalFailures());
        assertEquals(20, outer.counts().totalExclusions());
        assertEquals(CircuitBreaker.State.CLOSED, outer.state());
    }

    /** Listener cells on a context, read through the package-private accessor tests have elsewhere. */
    private static int listenerCells(CancelHandle h) throws Exception {
        Method m = CancelHandle.class.getDeclaredMethod("listenerCellCount");
        m.setAccessible(true);
        return (int) m.invoke(h);
    }

    @Test
    void asyncWaitsLeaveNoListenersOnALongLivedContext() throws Exception {
        try (CancelHandle request = Context.background().withTimeout(Duration.ofHours(1)); Scope s = request.attach()) {
            RateLimiter limiter = RateLimiter.builder("l").rate(200_000).burst(1).build(); // most calls wait a few µs
            for (int i = 0; i < 100_000; i++) {
                limiter.callAsync(() -> CompletableFuture.completedFuture("ok")).toCompletableFuture().get(5, TimeUnit.SECONDS);
            }
            assertTrue(listenerCells(request) < 64, "limiter waits withdrew their listeners: " + listenerCells(request));
            Retry retry = Retry.builder("r").maxAttempts(2).backoff(Backoff.fixed(Duration.ZERO)).build();
            for (int i = 0; i < 10_000; i++) {
                int[] calls = {0};
                assertEquals("second", retry.callAsync(() -> calls[0]++ == 0
                        ? CompletableFuture.<String>failedFuture(new IOException("first"))
                        : CompletableFuture.completedFuture("second")).toCompletableFuture().get(5, TimeUnit.SECONDS));
            }
            assertTrue(listenerCells(request) < 64, "retry waits withdrew their listeners: " + listenerCells(request));
        }
    }
}
