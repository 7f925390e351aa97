package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.ManualTicker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The stage a policy returns is the caller's handle on the call: cancelling it, or a timeout or a
 * hedge giving up on it, must reach the work and every permit under it, also when the work never
 * ends by itself (a future stuck on a dead connection). Found by a hostile review (2026-12-01):
 * before, a timeout around a bulkhead kept the slot for good, and a cancelled stage of a breaker,
 * an adaptive limiter, a rate limiter's wait or a retry gave nothing back.
 */
class AsyncCancellationTest {

    private final ManualTicker ticker = new ManualTicker();

    @Test
    void aTimeoutCancelsTheWorkSoThatTheBulkheadInsideGivesItsSlotBack() {
        Timeout timeout = Timeout.builder("t").timeout(Duration.ofMillis(50)).ticker(ticker).build();
        Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(1).ticker(ticker).build();
        Pipeline<String> pipeline = Pipeline.<String>builder("p").add(timeout).add(bulkhead).inDefaultOrder().build();
        CompletableFuture<String> never = new CompletableFuture<>();
        CompletableFuture<String> r = pipeline.callAsync(() -> never).toCompletableFuture();
        assertEquals(1, bulkhead.inUse());
        ticker.advance(Duration.ofMillis(50));
        assertInstanceOf(TimeoutExceededException.class, assertThrows(CompletionException.class, r::join).getCause());
        assertInstanceOf(TimeoutExceededException.class, assertThrows(CompletionException.class, never::join).getCause(),
                "the work's future is failed with the timeout");
        assertEquals(0, bulkhead.inUse(), "the slot is back although the work never ended by itself");
        assertEquals("next", pipeline.callAsync(() -> CompletableFuture.completedFuture("next")).toCompletableFuture().join());
    }

    @Test
    void aTimeoutOutsideAnAdaptiveLimiterIsSampledAsADrop() {
        Timeout timeout = Timeout.builder("t").timeout(Duration.ofMillis(50)).ticker(ticker).build();
        AdaptiveLimiter limiter = AdaptiveLimiter.builder("l").algorithm(LimitAlgorithm.aimd(10, 1, 10, 0.5, Duration.ofSeconds(10)))
                .ticker(ticker).build();
        Pipeline<String> pipeline = Pipeline.<String>builder("p").add(timeout).add(limiter).inDefaultOrder().build();
        CompletableFuture<String> r = pipeline.callAsync(CompletableFuture::new).toCompletableFuture();
        ticker.advance(Duration.ofMillis(50));
        assertTrue(r.isCompletedExceptionally());
        assertEquals(0, limiter.inFlight());
        assertEquals(5, limiter.limit(), "the timeout is a drop: AIMD backs off, as on the blocking path");
    }

    @Test
    void cancellingThroughAFallbackAndAListenedPipelineReachesTheWork() {
        Pipeline<String> pipeline = Pipeline.<String>builder("p")
                .add(Fallback.<String>always().toValue("cached"))
                .add(Bulkhead.builder("h").maxConcurrent(1).ticker(ticker).build())
                .listener(new PipelineListener() { })
                .inDefaultOrder().build();
        CompletableFuture<String> work = new CompletableFuture<>();
        CompletableFuture<String> r = pipeline.callAsync(() -> work).toCompletableFuture();
        assertTrue(r.cancel(false));
        assertTrue(work.isCancelled(), "through the listener's stage, the fallback and the bulkhead");
        assertTrue(r.isCancelled(), "no fallback value for a call nobody waits for");
        assertEquals("ok", pipeline.callAsync(() -> CompletableFuture.completedFuture("ok")).toCompletableFuture().join(),
                "the bulkhead's only slot came back");
    }

    @Test
    void aValueGivenFromOutsideEndsThePermitAndTheWork() {
        AdaptiveLimiter l = AdaptiveLimiter.builder("l").algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1)))
                .ticker(ticker).build();
        CompletableFuture<String> work = new CompletableFuture<>();
        CompletableFuture<String> r = l.callAsync(() -> work).toCompletableFuture();
        assertTrue(r.complete("default")); // as completeOnTimeout does
        assertEquals(0, l.inFlight(), "the permit is back: nobody waits for the work");
        assertTrue(work.isCancelled());
    }

    @Test
    void aMinimalStageGoesThroughEveryPolicyAndLeavesNoPermit() {
        CircuitBreaker breaker = CircuitBreaker.builder("b").ticker(ticker).build();
        Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(1).ticker(ticker).build();
        AdaptiveLimiter limiter = AdaptiveLimiter.builder("l").algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1)))
                .ticker(ticker).build();
        Pipeline<String> pipeline = Pipeline.<String>builder("p").add(Fallback.<String>always().toValue("fallback"))
                .add(Retry.builder("r").maxAttempts(2).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build())
                .add(breaker).add(bulkhead).add(limiter).inDefaultOrder().build();
        for (int i = 0; i < 3; i++) { // a minimal stage's isDone throws: the policies must not ask it
            assertEquals("ok", pipeline.callAsync(() -> CompletableFuture.completedStage("ok")).toCompletableFuture().join());
        }
        assertEquals(0, bulkhead.inUse());
        assertEquals(0, limiter.inFlight());
        assertEquals(3, breaker.counts().totalSuccesses());
    }

    @Test
    void aTimeoutWhoseCallersContextIsDoneAlreadyStillEndsTheWork() {
        Timeout timeout = Timeout.builder("t").timeout(Duration.ofSeconds(1)).ticker(ticker).build();
        Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(1).ticker(ticker).build();
        Pipeline<String> pipeline = Pipeline.<String>builder("p").add(timeout).add(bulkhead).inDefaultOrder().build();
        dev.resilience.context.CancelHandle h = dev.resilience.context.Context.background().withCancel();
        h.cancel(); // the result fails at once, from the deadline's callback, before the task even starts
        CompletableFuture<String> never = new CompletableFuture<>();
        CompletableFuture<String> r;
        try (dev.resilience.context.Scope s = h.attach()) {
            r = pipeline.callAsync(() -> never).toCompletableFuture();
        }
        assertTrue(r.isCompletedExceptionally());
        assertTrue(never.isDone(), "the work is ended too");
        assertEquals(0, bulkhead.inUse(), "and the slot is back");
    }

    @Test
    void theCallerCancellingATimeoutsStageCancelsTheWork() {
        Timeout timeout = Timeout.builder("t").timeout(Duration.ofSeconds(10)).ticker(ticker).build();
        CompletableFuture<String> never = new CompletableFuture<>();
        CompletableFuture<String> r = timeout.callAsync(() -> never).toCompletableFuture();
        assertTrue(r.cancel(false));
        assertTrue(never.isCancelled());
    }

    @Test
    void cancellingTheAdaptiveLimitersStageGivesThePermitBack() {
        AdaptiveLimiter l = AdaptiveLimiter.builder("l").algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1)))
                .ticker(ticker).build();
        CompletableFuture<String> inner = new CompletableFuture<>();
        CompletableFuture<String> r = l.callAsync(() -> inner).toCompletableFuture();
        assertEquals(1, l.inFlight());
        assertTrue(r.cancel(false));
        assertEquals(0, l.inFlight());
        assertTrue(inner.isCancelled(), "the work is cancelled too");
        inner.complete("late"); // a late end counts nothing more
        assertEquals(0, l.inFlight());
        assertEquals("ok", l.callAsync(() -> CompletableFuture.completedFuture("ok")).toCompletableFuture().join());
        assertEquals(0, l.inFlight());
    }

    @Test
    void cancellingTheBreakersStageFreesItsHalfOpenProbe() {
        CircuitBreaker b = CircuitBreaker.builder("b").readyToTrip(c -> c.consecutiveFailures() >= 1)
                .openDuration(Duration.ofSeconds(1)).maxRequests(1).ticker(ticker).build();
        b.callAsync(() -> CompletableFuture.failedFuture(new IOException("down"))).toCompletableFuture().exceptionally(e -> null).join();
        assertEquals(CircuitBreaker.State.OPEN, b.state());
        ticker.advance(Duration.ofSeconds(1));
        CompletableFuture<String> probe = new CompletableFuture<>();
        CompletableFuture<String> r = b.callAsync(() -> probe).toCompletableFuture();
        assertEquals(CircuitBreaker.State.HALF_OPEN, b.state());
        assertTrue(r.cancel(false));
        assertTrue(probe.isCancelled());
        assertEquals("ok", b.callAsync(() -> CompletableFuture.completedFuture("ok")).toCompletableFuture().join(),
                "the cancelled probe's place is free at once, not after the half-open timeout");
        assertEquals(CircuitBreaker.State.CLOSED, b.state());
    }

    @Test
    void aHedgeCancelsItsLosingAttempts() {
        Hedge hedge = Hedge.builder("g").delay(Duration.ofMillis(10)).maxHedges(1).ticker(ticker).build();
        List<CompletableFuture<String>> attempts = new ArrayList<>();
        CompletableFuture<String> r = hedge.callAsync(() -> {
            CompletableFuture<String> a = new CompletableFuture<>();
            attempts.add(a);
            return a;
        }).toCompletableFuture();
        ticker.advance(Duration.ofMillis(10));
        assertEquals(2, attempts.size());
        attempts.get(1).complete("second");
        assertEquals("second", r.join());
        assertTrue(attempts.get(0).isCancelled(), "the loser is cancelled, not left running");
    }

    @Test
    void cancellingDuringARateLimitersWaitNeverStartsTheTaskAndGivesTheReservationBack() {
        RateLimiter limiter = RateLimiter.builder("r").rate(1).burst(1).ticker(ticker).build();
        assertTrue(limiter.tryAcquire());
        AtomicInteger ran = new AtomicInteger();
        CompletableFuture<String> r = limiter.<String>callAsync(() -> {
            ran.incrementAndGet();
            return CompletableFuture.completedFuture("ran");
        }).toCompletableFuture();
        assertFalse(r.isDone(), "waiting for its permit");
        assertEquals(-1.0, limiter.tokens(), 1e-9);
        assertTrue(r.cancel(false));
        assertEquals(0.0, limiter.tokens(), 1e-9, "the reservation is given back");
        ticker.advance(Duration.ofSeconds(2));
        assertEquals(0, ran.get(), "the task never starts");
        assertEquals(1.0, limiter.tokens(), 1e-9);
    }

    @Test
    void cancellingARetryStopsItsAttempts() {
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(100))).ticker(ticker).build();
        AtomicInteger attempts = new AtomicInteger();
        CompletableFuture<String> r = retry.<String>callAsync(() -> {
            attempts.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("flaky"));
        }).toCompletableFuture();
        assertEquals(1, attempts.get());
        assertTrue(r.cancel(false));
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(1, attempts.get(), "no attempt after the caller cancelled");
    }

    @Test
    void cancellingARetryCancelsTheAttemptInFlight() {
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(100))).ticker(ticker).build();
        CompletableFuture<String> attempt = new CompletableFuture<>();
        CompletableFuture<String> r = retry.callAsync(() -> attempt).toCompletableFuture();
        assertTrue(r.cancel(false));
        assertTrue(attempt.isCancelled());
    }

    @Test
    void manyImmediateAsyncRetriesDoNotOverflowTheStack() {
        Retry retry = Retry.builder("r").maxAttempts(100_000).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build();
        AtomicInteger attempts = new AtomicInteger();
        IOException failure = new IOException("always");
        CompletableFuture<String> r = retry.<String>callAsync(() -> {
            attempts.incrementAndGet();
            return CompletableFuture.failedFuture(failure); // done already: each retry is due at once
        }).toCompletableFuture();
        assertTrue(r.isDone(), "every attempt ran on this thread");
        assertEquals(failure, assertThrows(CompletionException.class, r::join).getCause());
        assertEquals(100_000, attempts.get());
    }

    @Test
    void immediateRetriesHandedBetweenThreadsRunEachAttemptOnceAndEnd() throws Exception {
        // attempts that fail on this thread and on pool threads in turn: the loop that runs them
        // passes from thread to thread (its pending count and the next attempt's number with it)
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            Retry retry = Retry.builder("r").maxAttempts(2_000).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build();
            AtomicInteger attempts = new AtomicInteger();
            IOException failure = new IOException("always");
            CompletableFuture<String> r = retry.<String>callAsync(() -> {
                int n = attempts.incrementAndGet();
                return n % 3 == 0 ? CompletableFuture.supplyAsync(() -> {
                    throw new java.util.concurrent.CompletionException(failure);
                }, pool) : CompletableFuture.failedFuture(failure);
            }).toCompletableFuture();
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> r.get(10, java.util.concurrent.TimeUnit.SECONDS), "ends within 10 s");
            assertEquals(failure, e.getCause());
            assertEquals(2_000, attempts.get(), "each attempt once, none skipped");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aLimitAlgorithmThatThrowsLeavesTheCallsOutcomeAndTheLimit() throws Exception {
        LimitAlgorithm throwing = new LimitAlgorithm() {
            @Override
            public int initialLimit() {
                return 3;
            }

            @Override
            public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
                throw new IllegalStateException("the user's algorithm broke");
            }
        };
        AdaptiveLimiter l = AdaptiveLimiter.builder("l").algorithm(throwing).ticker(ticker).build();
        assertEquals("ok", l.call(() -> "ok"));
        IOException failure = new IOException("the call's own failure");
        assertEquals(failure, assertThrows(IOException.class, () -> l.call(() -> {
            throw failure;
        })));
        assertEquals("async", l.callAsync(() -> CompletableFuture.completedFuture("async")).toCompletableFuture().join());
        assertEquals(0, l.inFlight());
        assertEquals(3, l.limit());
    }

    @Test
    void aWaitOfExactlyMaxWaitIsGranted() {
        RateLimiter limiter = RateLimiter.builder("r").rate(10).burst(1).maxWait(Duration.ofMillis(100)).ticker(ticker).build();
        assertTrue(limiter.tryAcquire());
        CompletableFuture<String> r = limiter.callAsync(() -> CompletableFuture.completedFuture("ok")).toCompletableFuture();
        assertFalse(r.isDone(), "granted, after a wait of exactly maxWait (as reserve(n, maxWait) and Resilience4j allow)");
        ticker.advance(Duration.ofMillis(100));
        assertEquals("ok", r.join());
        RateLimiter strict = RateLimiter.builder("s").rate(10).burst(1).maxWait(Duration.ofMillis(99)).ticker(ticker).build();
        assertTrue(strict.tryAcquire());
        assertInstanceOf(RequestNotPermittedException.class, assertThrows(CompletionException.class,
                () -> strict.callAsync(() -> CompletableFuture.completedFuture("no")).toCompletableFuture().join()).getCause(),
                "a wait of 100 ms exceeds a maxWait of 99 ms");
    }
}
