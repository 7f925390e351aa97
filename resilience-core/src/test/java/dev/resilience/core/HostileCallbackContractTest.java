package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every policy against hostile user code: listeners that throw a {@code RuntimeException} or an
 * {@code Error}, predicates that throw, suppliers that throw, return null or never complete. What
 * must hold: no permit or slot leaks, every returned stage completes within its bound, the call's
 * own outcome survives (the callback's exception attached to it), nothing runs twice because of a
 * callback.
 */
class HostileCallbackContractTest {

    private static final List<Throwable> HOSTILE = List.of(new IllegalStateException("hostile"),
            new AssertionError("hostile"));

    private static void throwIt(Throwable t) {
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw (RuntimeException) t;
    }

    /** One policy, seen through the shape every policy shares, and what it must not leak. */
    private record Policy(String name, Pipeline<String> pipeline, Supplier<String> leaks) {
    }

    private static List<Policy> policiesWithThrowingListeners(Throwable error) {
        List<Policy> all = new ArrayList<>();
        RateLimiter limiter = RateLimiter.builder("l").rate(1e6).burst(1000).listener(new RateLimiterListener() {
            @Override
            public void onPermitted(RateLimiter l, int permits, long waitedNanos) {
                throwIt(error);
            }

            @Override
            public void onRejected(RateLimiter l, int permits, RequestNotPermittedException.Reason reason) {
                throwIt(error);
            }
        }).build();
        all.add(new Policy("rate limiter", Pipeline.<String>builder("l").add(limiter).inDefaultOrder().build(), () -> ""));
        CircuitBreaker breaker = CircuitBreaker.builder("b").listener(new CircuitBreakerListener() {
            @Override
            public void onSuccess(CircuitBreaker b) {
                throwIt(error);
            }

            @Override
            public void onFailure(CircuitBreaker b, Throwable failure) {
                throwIt(error);
            }

            @Override
            public void onStateChange(CircuitBreaker b, CircuitBreaker.State from, CircuitBreaker.State to) {
                throwIt(error);
            }
        }).build();
        all.add(new Policy("circuit breaker", Pipeline.<String>builder("b").add(breaker).inDefaultOrder().build(),
                () -> breaker.counts().totalFailures() + breaker.counts().totalSuccesses() > 0 ? "" : "nothing counted"));
        Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(2).listener(new BulkheadListener() {
            @Override
            public void onPermitted(Bulkhead b, long waitedNanos) {
                throwIt(error);
            }

            @Override
            public void onReleased(Bulkhead b) {
                throwIt(error);
            }
        }).build();
        all.add(new Policy("bulkhead", Pipeline.<String>builder("h").add(bulkhead).inDefaultOrder().build(),
                () -> bulkhead.inUse() == 0 ? "" : "slots in use: " + bulkhead.inUse()));
        Retry retry = Retry.builder("r").maxAttempts(2).backoff(Backoff.fixed(Duration.ZERO)).listener(new RetryListener() {
            @Override
            public void onRetry(Retry r, int attempt, long delayNanos, Throwable failure) {
                throwIt(error);
            }

            @Override
            public void onGiveUp(Retry r, int attempts, GiveUp reason) {
                throwIt(error);
            }
        }).build();
        all.add(new Policy("retry", Pipeline.<String>builder("r").add(retry).inDefaultOrder().build(), () -> ""));
        Timeout timeout = Timeout.builder("t").timeout(Duration.ofSeconds(5)).listener(new TimeoutListener() {
            @Override
            public void onTimeout(Timeout t) {
                throwIt(error);
            }
        }).build();
        all.add(new Policy("timeout", Pipeline.<String>builder("t").add(timeout).inDefaultOrder().build(), () -> ""));
        all.add(new Policy("pipeline", Pipeline.<String>builder("p").add(retry).add(breaker)
                .add(limiter).add(timeout).add(bulkhead).listener(new PipelineListener() {
                    @Override
                    public void onCall(Pipeline<?> p, long durationNanos, Throwable failure) {
                        throwIt(error);
                    }
                }).inDefaultOrder().build(), () -> bulkhead.inUse() == 0 ? "" : "slots in use: " + bulkhead.inUse()));
        return all;
    }

    @Test
    void throwingListenersChangeNoOutcomeAndLeakNothing() throws Exception {
        for (Throwable error : HOSTILE) {
            for (Policy p : policiesWithThrowingListeners(error)) {
                AtomicInteger runs = new AtomicInteger();
                for (int i = 0; i < 3; i++) {
                    assertEquals("ok", p.pipeline.call(() -> {
                        runs.incrementAndGet();
                        return "ok";
                    }), p.name);
                }
                assertEquals(3, runs.get(), p.name + ": nothing ran twice because of a listener");
                IOException failure = new IOException("the call's own");
                runs.set(0);
                IOException seen = assertThrows(IOException.class, () -> p.pipeline.call(() -> {
                    runs.incrementAndGet();
                    throw failure;
                }), p.name);
                assertSame(failure, seen, p.name + ": the task's exception came out");
                assertEquals(p.name.equals("retry") || p.name.equals("pipeline") ? 2 : 1, runs.get(), p.name);
                assertEquals("async", p.pipeline.callAsync(() -> CompletableFuture.completedFuture("async"))
                        .toCompletableFuture().get(5, TimeUnit.SECONDS), p.name);
                assertEquals("", p.leaks.get(), p.name);
            }
        }
    }

    @Test
    void aThrowingAdaptiveLimiterListenerLeaksNoSlot() throws Exception {
        for (Throwable error : HOSTILE) {
            AdaptiveLimiter adaptive = AdaptiveLimiter.builder("a")
                    .algorithm(LimitAlgorithm.aimd(4, 1, 10, 0.5, Duration.ofSeconds(1))).listener(new AdaptiveLimiterListener() {
                        @Override
                        public void onLimitChanged(AdaptiveLimiter l, int oldLimit, int newLimit) {
                            throwIt(error);
                        }

                        @Override
                        public void onRejected(AdaptiveLimiter l) {
                            throwIt(error);
                        }
                    }).build();
            for (int i = 0; i < 20; i++) {
                assertThrows(java.util.concurrent.TimeoutException.class, () -> adaptive.call(() -> {
                    throw new java.util.concurrent.TimeoutException("a drop: the limit moves");
                }));
                assertEquals("ok", adaptive.call(() -> "ok"));
            }
            assertEquals(0, adaptive.inFlight());
        }
    }

    @Test
    void aThrowingLimitAlgorithmKeepsEveryOutcomeAndEveryStageCompletes() throws Exception {
        for (Throwable error : HOSTILE) {
            AdaptiveLimiter adaptive = AdaptiveLimiter.builder("a").algorithm(new LimitAlgorithm() {
                @Override
                public int initialLimit() {
                    return 4;
                }

                @Override
                public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
                    throwIt(error);
                    return limit;
                }
            }).build();
            assertEquals("ok", adaptive.call(() -> "ok"), error.toString());
            IOException failure = new IOException("the call's own");
            assertSame(failure, assertThrows(IOException.class, () -> adaptive.call(() -> {
                throw failure;
            })), error.toString());
            CompletableFuture<String> inner = new CompletableFuture<>();
            CompletableFuture<String> out = adaptive.callAsync(() -> inner).toCompletableFuture();
            inner.complete("async");
            assertEquals("async", out.get(5, TimeUnit.SECONDS), error.toString());
            CompletableFuture<String> failing = new CompletableFuture<>();
            CompletableFuture<String> failed = adaptive.callAsync(() -> failing).toCompletableFuture();
            failing.completeExceptionally(failure);
            assertSame(failure, assertThrows(ExecutionException.class, () -> failed.get(5, TimeUnit.SECONDS))
                    .getCause(), error.toString());
            assertEquals(0, adaptive.inFlight(), error.toString());
            assertEquals(4, adaptive.limit(), "the limit stays where the algorithm failed");
        }
    }

    @Test
    void aBulkheadListenerThrowingTwiceLeavesNoSlotTaken() throws Exception {
        Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(2).listener(new BulkheadListener() {
            @Override
            public void onPermitted(Bulkhead b, long waitedNanos) {
                throw new IllegalStateException("hostile");
            }
        }).build();
        bulkhead.call(() -> "one");
        bulkhead.call(() -> "two");
        assertEquals(0, bulkhead.inUse());
        assertEquals("three", bulkhead.call(() -> "three"));
    }

    @Test
    void breakerListenersNeverTurnASuccessIntoAFailureNorReplaceTheFailure() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("b").listener(new CircuitBreakerListener() {
            @Override
            public void onSuccess(CircuitBreaker b) {
                throw new IllegalStateException("hostile");
            }

            @Override
            public void onFailure(CircuitBreaker b, Throwable failure) {
                throw new IllegalStateException("hostile");
            }
        }).build();
        AtomicInteger runs = new AtomicInteger();
        Retry outer = Retry.builder("outer").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build();
        assertEquals("paid", outer.call(() -> breaker.call(() -> {
            runs.incrementAndGet();
            return "paid";
        })));
        assertEquals(1, runs.get(), "an outer retry did not run the task again");
        IOException io = new IOException("down");
        assertSame(io, assertThrows(IOException.class, () -> breaker.call(() -> {
            throw io;
        })));
    }

    @Test
    void throwingPredicatesKeepTheOriginalFailureAndEveryStageCompletes() throws Exception {
        for (Throwable error : HOSTILE) {
            IOException io = new IOException("the attempt's own");
            Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).retryOn(e -> {
                throwIt(error);
                return true;
            }).build();
            AtomicInteger attempts = new AtomicInteger();
            IOException sync = assertThrows(IOException.class, () -> retry.call(() -> {
                attempts.incrementAndGet();
                throw new IOException("sync");
            }));
            assertEquals(1, attempts.get(), "a predicate that throws ends the retries");
            assertSame(error, sync.getSuppressed()[0], "the predicate's exception is attached");
            CompletableFuture<String> async = retry.<String>callAsync(() -> CompletableFuture.failedFuture(io))
                    .toCompletableFuture();
            ExecutionException done = assertThrows(ExecutionException.class, () -> async.get(2, TimeUnit.SECONDS));
            assertSame(io, done.getCause());

            Retry hinted = Retry.builder("h").maxAttempts(3).delayHint(String.class, (r, e) -> {
                throwIt(error);
                return null;
            }).retryOnResult(String.class, r -> {
                throwIt(error);
                return true;
            }).build();
            assertEquals("result stands", hinted.call(() -> "result stands"));
            assertEquals("async result", hinted.callAsync(() -> CompletableFuture.completedFuture("async result"))
                    .toCompletableFuture().get(2, TimeUnit.SECONDS));

            Fallback<String> fallback = Fallback.<String>when(e -> {
                throwIt(error);
                return true;
            }).toValue("fallback");
            IOException fio = new IOException("f");
            assertSame(fio, assertThrows(IOException.class, () -> fallback.call(() -> {
                throw fio;
            })));
            CompletableFuture<String> fa = fallback.callAsync(() -> CompletableFuture.<String>failedFuture(fio))
                    .toCompletableFuture();
            assertSame(fio, assertThrows(ExecutionException.class, () -> fa.get(2, TimeUnit.SECONDS)).getCause());

            CircuitBreaker breaker = CircuitBreaker.builder("b").isExcluded(e -> {
                throwIt(error);
                return false;
            }).isSuccessful(e -> {
                throwIt(error);
                return false;
            }).readyToTrip(c -> {
                throwIt(error);
                return false;
            }).build();
            IOException bio = new IOException("b");
            assertSame(bio, assertThrows(IOException.class, () -> breaker.call(() -> {
                throw bio;
            })));
            assertEquals(1, breaker.counts().totalFailures(), "counted as the failure it was");
        }
    }

    @Test
    void aFallbackThatThrowsTranslatesAndItsExceptionComesOutAsItIs() {
        IOException original = new IOException("down");
        IllegalStateException translated = new IllegalStateException("service unavailable");
        Fallback<String> fallback = Fallback.<String>on(IOException.class).to(e -> {
            throw translated;
        });
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> fallback.call(() -> {
            throw original;
        }));
        assertSame(translated, thrown);
        assertEquals(0, thrown.getSuppressed().length, "an exception the fallback may share is left untouched");
    }

    /** Async suppliers that throw or return null: every stage completes, every permit comes back. */
    @Test
    void suppliersThatThrowOrReturnNullCompleteEveryStageAndReleaseEveryPermit() throws Exception {
        List<Supplier<CompletionStage<String>>> hostile = List.of(() -> null, () -> {
            throw new IllegalStateException("supplier");
        });
        for (Supplier<CompletionStage<String>> supplier : hostile) {
            Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(1).build();
            AdaptiveLimiter adaptive = AdaptiveLimiter.builder("a")
                    .algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1))).build();
            CircuitBreaker breaker = CircuitBreaker.builder("b").openDuration(Duration.ofMillis(1)).build();
            breaker.forceOpen();
            breaker.reset();
            Hedge hedge = Hedge.builder("g").delay(Duration.ofMillis(5)).build();
            RateLimiter limiter = RateLimiter.builder("l").rate(1e6).burst(10).build();
            Timeout timeout = Timeout.builder("t").timeout(Duration.ofSeconds(1)).build();
            Retry retry = Retry.builder("r").maxAttempts(2).backoff(Backoff.fixed(Duration.ZERO)).build();
            Fallback<String> fallback = Fallback.<String>on(RuntimeException.class).toValue("fell back");
            FaultInjection faults = FaultInjection.builder("f").build();
            Pipeline<String> pipeline = Pipeline.<String>builder("p").add(retry).add(breaker)
                    .add(limiter).add(timeout).add(bulkhead).inDefaultOrder().build();
            List<CompletionStage<String>> stages = List.of(bulkhead.callAsync(supplier), adaptive.callAsync(supplier),
                    breaker.callAsync(supplier), hedge.callAsync(supplier), limiter.callAsync(supplier),
                    timeout.callAsync(supplier), retry.callAsync(supplier), faults.callAsync(supplier),
                    pipeline.callAsync(supplier));
            for (CompletionStage<String> stage : stages) {
                assertTrue(assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(2, TimeUnit.SECONDS))
                        .getCause() instanceof RuntimeException);
            }
            assertEquals("fell back", fallback.callAsync(supplier).toCompletableFuture().get(2, TimeUnit.SECONDS));
            assertEquals(0, bulkhead.inUse(), "bulkhead slot back");
            assertEquals(0, adaptive.inFlight(), "adaptive slot back");
            assertEquals("ok", bulkhead.call(() -> "ok"));
            assertEquals("ok", adaptive.call(() -> "ok"));
        }
    }

    @Test
    void aTaskReturningNoStageCountsNothingInsideAPipelineAsAloneAndIsNotRetried() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("b").build();
        AdaptiveThrottle throttle = AdaptiveThrottle.builder("t").build();
        AdaptiveLimiter adaptive = AdaptiveLimiter.builder("a")
                .algorithm(LimitAlgorithm.aimd(10, 1, 20, 0.5, Duration.ofHours(1))).build();
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build();
        Pipeline<String> pipeline = Pipeline.<String>builder("p").add(retry).add(breaker).add(throttle).add(adaptive)
                .inDefaultOrder().build();
        AtomicInteger calls = new AtomicInteger();
        Supplier<CompletionStage<String>> none = () -> {
            calls.incrementAndGet();
            return null;
        };
        for (CompletionStage<String> stage : List.of(pipeline.callAsync(none), breaker.callAsync(none),
                retry.callAsync(none))) {
            assertInstanceOf(NullPointerException.class, assertThrows(ExecutionException.class,
                    () -> stage.toCompletableFuture().get(2, TimeUnit.SECONDS)).getCause());
        }
        assertEquals(3, calls.get(), "once per call: a retry does not retry a task that returns no stage");
        assertEquals(new CircuitBreaker.Counts(0, 0, 0, 0, 0, 0), breaker.counts(),
                "a programming error is not the dependency's failure, inside a pipeline as alone");
        assertEquals(0, throttle.stats().failures(), "nor the throttle's");
        assertEquals(10, adaptive.limit(), "nor a drop for the adaptive limit");
        assertEquals(0, adaptive.inFlight());
        assertEquals("ok", pipeline.callAsync(() -> CompletableFuture.completedFuture("ok"))
                .toCompletableFuture().get(2, TimeUnit.SECONDS));
        assertEquals(new CircuitBreaker.Counts(1, 1, 0, 0, 1, 0), breaker.counts());
    }

    @Test
    void aRetryWhoseLaterAttemptReturnsNoStageEndsWithTheEarlierRealFailure() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("b").build();
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build();
        AtomicInteger calls = new AtomicInteger();
        IOException down = new IOException("down");
        Supplier<CompletionStage<String>> failsThenNone = () -> calls.incrementAndGet() == 1
                ? CompletableFuture.failedFuture(down) : null;
        CompletionStage<String> stage = breaker.callAsync(() -> retry.callAsync(failsThenNone));
        Throwable outcome = assertThrows(ExecutionException.class,
                () -> stage.toCompletableFuture().get(2, TimeUnit.SECONDS)).getCause();
        assertSame(down, outcome, "the dependency's failure, not the programming error after it");
        assertInstanceOf(NullPointerException.class, down.getSuppressed()[0], "which is attached to it");
        assertEquals(2, calls.get(), "no attempt after the one that returned no stage");
        assertEquals(1, breaker.counts().totalFailures(), "the breaker outside counts the real failure");
    }

    @Test
    void aSharedFailureRecordsTheNullStageOnceAndARetriedResultIsNotReplacedByAnOlderFailure() throws Exception {
        IOException shared = new IOException("down, a constant");
        for (int call = 0; call < 3; call++) {
            AtomicInteger calls = new AtomicInteger();
            Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build();
            CompletionStage<String> stage = retry.callAsync(() -> calls.incrementAndGet() == 1
                    ? CompletableFuture.failedFuture(shared) : null);
            assertSame(shared, assertThrows(ExecutionException.class,
                    () -> stage.toCompletableFuture().get(2, TimeUnit.SECONDS)).getCause());
        }
        assertEquals(1, shared.getSuppressed().length, "recorded once, not once per call");

        AtomicInteger calls = new AtomicInteger();
        Retry onResult = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO))
                .retryOnResult(String.class, "again"::equals).build();
        CompletionStage<String> stage = onResult.callAsync(() -> switch (calls.incrementAndGet()) {
            case 1 -> CompletableFuture.failedFuture(new IOException("first"));
            case 2 -> CompletableFuture.completedFuture("again");
            default -> null;
        });
        assertInstanceOf(NullPointerException.class, assertThrows(ExecutionException.class,
                () -> stage.toCompletableFuture().get(2, TimeUnit.SECONDS)).getCause(),
                "the latest outcome before the null stage was a result, not the first attempt's failure");
    }

    @Test
    void aHalfOpenProbeWhoseSupplierReturnsNullFreesItsSlot() throws Exception {
        dev.resilience.context.ManualTicker ticker = new dev.resilience.context.ManualTicker();
        CircuitBreaker breaker = CircuitBreaker.builder("b").openDuration(Duration.ofSeconds(1)).ticker(ticker)
                .readyToTrip(c -> c.consecutiveFailures() >= 1).build();
        assertThrows(IOException.class, () -> breaker.call(() -> {
            throw new IOException("trip");
        }));
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        ticker.advance(Duration.ofSeconds(1));
        CompletionStage<String> nullStage = breaker.callAsync(() -> null);
        assertInstanceOf(NullPointerException.class, assertThrows(ExecutionException.class,
                () -> nullStage.toCompletableFuture().get(1, TimeUnit.SECONDS)).getCause());
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertEquals("probe", breaker.call(() -> "probe"), "the probe slot came back at once");
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void aSupplierThatNeverCompletesEndsAtTheTimeoutAndTheDeadline() throws Exception {
        Timeout timeout = Timeout.builder("t").timeout(Duration.ofMillis(50)).build();
        Bulkhead bulkhead = Bulkhead.builder("h").maxConcurrent(1).build();
        Pipeline<String> pipeline = Pipeline.<String>builder("p").add(timeout).add(bulkhead).inDefaultOrder().build();
        CompletableFuture<String> never = new CompletableFuture<>();
        long start = System.nanoTime();
        assertInstanceOf(TimeoutExceededException.class, assertThrows(ExecutionException.class,
                () -> pipeline.callAsync(() -> never).toCompletableFuture().get(5, TimeUnit.SECONDS)).getCause());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2));
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(50)); Scope s = h.attach()) {
            Hedge hedge = Hedge.builder("g").delay(Duration.ofMillis(10)).maxHedges(2).build();
            CompletionStage<String> hedged = hedge.callAsync(() -> new CompletableFuture<String>());
            assertInstanceOf(dev.resilience.context.DeadlineExceededException.class, assertThrows(ExecutionException.class,
                    () -> hedged.toCompletableFuture().get(5, TimeUnit.SECONDS)).getCause());
        }
    }

    @Test
    void interruptionEndsTheRetries() throws Exception {
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(1))).build();
        AtomicInteger attempts = new AtomicInteger();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                retry.call(() -> {
                    attempts.incrementAndGet();
                    Thread.sleep(60_000); // the slow dependency, far beyond any stall of a loaded machine
                    return "late";
                });
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        long start = System.nanoTime();
        caller.start();
        awaitTrue(() -> attempts.get() > 0, "the first attempt started");
        caller.interrupt();
        assertInstanceOf(InterruptedException.class, outcome.get(5, TimeUnit.SECONDS));
        assertEquals(1, attempts.get());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "returned at the interrupt");
    }

    @Test
    void hedgesDoNotOutliveACallerThatLeft() throws Exception {
        // On a manual clock no hedge can start before the caller leaves, however slow the machine;
        // advancing it afterwards past three delays would start any hedge the call left behind.
        dev.resilience.context.ManualTicker clock = new dev.resilience.context.ManualTicker();
        Hedge hedge = Hedge.builder("g").delay(Duration.ofMillis(150)).maxHedges(3).interruptAttempts()
                .ticker(clock).build();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger sawCancellation = new AtomicInteger();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                hedge.call(() -> {
                    started.incrementAndGet();
                    try {
                        Thread.sleep(2_000); // the slow dependency
                    } catch (InterruptedException e) {
                        sawCancellation.incrementAndGet();
                        throw e;
                    }
                    return "late";
                });
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        caller.start();
        awaitTrue(() -> started.get() > 0, "the first attempt started");
        caller.interrupt();
        assertInstanceOf(InterruptedException.class, outcome.get(5, TimeUnit.SECONDS));
        awaitTrue(() -> sawCancellation.get() == 1, "the running attempt was cancelled");
        clock.advance(Duration.ofMillis(450));
        // a hedge left behind would run on the executor: give it time to start, then look
        try (CancelHandle wait = Context.background().withTimeout(Duration.ofMillis(200))) {
            wait.context().waitUntil(dev.resilience.context.Ticker.system(), Long.MAX_VALUE);
        }
        assertEquals(1, started.get(), "no attempt started after the caller left");
        caller.join(5_000);
        assertFalse(caller.isAlive());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void interruptionEndsTheRetriesWhateverRetryOnSays() throws Exception {
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ZERO)).retryOn(e -> true).build();
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(InterruptedException.class, () -> retry.call(() -> {
            attempts.incrementAndGet();
            throw new InterruptedException("the caller is told to stop");
        }));
        assertEquals(1, attempts.get());
        AtomicInteger swallowed = new AtomicInteger();
        assertThrows(IOException.class, () -> retry.call(() -> {
            swallowed.incrementAndGet();
            Thread.currentThread().interrupt(); // a task that kept the flag and failed otherwise
            throw new IOException("after the interrupt");
        }));
        assertTrue(Thread.interrupted(), "the flag stays for the caller");
        assertEquals(1, swallowed.get());
    }
}
