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
import dev.resilience.context.Scope;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Backoff sequences, classification, deadline, budget and server delays, at exact ticker times. */
class RetryTest {

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker();
    private final List<String> events = new ArrayList<>();
    private final RetryListener recorder = new RetryListener() {
        @Override
        public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
            events.add("retry " + attempt + " after " + delayNanos / MS + "ms");
        }

        @Override
        public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
            events.add("give up after " + attempts + ": " + reason);
        }
    };

    static final class BusinessRejection extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    @Test
    void retryOnResultIsAskedOncePerResult() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO))
                .retryOnResult(String.class, r -> {
                    asked.incrementAndGet(); // a stateful predicate (reading a body, say) must not be asked twice
                    return r.equals("busy");
                }).build();
        java.util.Iterator<String> answers = List.of("busy", "busy", "ok").iterator();
        assertEquals("ok", retry.call(answers::next));
        assertEquals(3, asked.get(), "once per result; it was asked again for each retried one");
        java.util.Iterator<String> async = List.of("busy", "ok").iterator();
        assertEquals("ok", retry.callAsync(() -> CompletableFuture.completedFuture(async.next())).toCompletableFuture().join());
        assertEquals(5, asked.get());
    }

    @Test
    void fixedAndExponentialBackoffWithCap() {
        Backoff fixed = Backoff.fixed(Duration.ofMillis(200));
        assertEquals(200 * MS, fixed.delayNanos(1, 0, () -> 0.5));
        assertEquals(200 * MS, fixed.delayNanos(7, 200 * MS, () -> 0.5));
        Backoff exp = Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofMillis(1000));
        long[] expected = {100, 200, 400, 800, 1000, 1000};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i] * MS, exp.delayNanos(i + 1, 0, () -> 0.5), "retry " + (i + 1));
        }
        assertEquals(1000 * MS, exp.delayNanos(10_000, 0, () -> 0.5), "no overflow far out");
    }

    @Test
    void decorrelatedJitterNearTheLargestCapStaysNearTheCap() {
        // the cap may be 2^62 ns (a Duration of centuries, saturated); 3 x a previous delay above a
        // third of Long.MAX_VALUE wrapped negative and the next delay fell back to the initial one
        Backoff decorrelated = Backoff.exponential(Duration.ofMillis(100),
                2.0, java.time.temporal.ChronoUnit.FOREVER.getDuration(), Backoff.Jitter.DECORRELATED);
        long cap = 1L << 62;
        long d = decorrelated.delayNanos(10, cap - 1, () -> 0.5);
        assertTrue(d > cap / 4, "half-way between the initial delay and the cap, not back at the start: " + d);
    }

    @Test
    void jitterStaysWithinItsBounds() {
        Duration base = Duration.ofMillis(100);
        Duration cap = Duration.ofMillis(1000);
        Backoff full = Backoff.exponential(base, 2.0, cap, Backoff.Jitter.FULL);
        Backoff equal = Backoff.exponential(base, 2.0, cap, Backoff.Jitter.EQUAL);
        Backoff decorrelated = Backoff.exponential(base, 2.0, cap, Backoff.Jitter.DECORRELATED);
        assertEquals(0L, full.delayNanos(3, 0, () -> 0.0));
        assertEquals(399 * MS, full.delayNanos(3, 0, () -> 0.9975));
        assertEquals(200 * MS, equal.delayNanos(3, 0, () -> 0.0));
        assertEquals(300 * MS, equal.delayNanos(3, 0, () -> 0.5));
        java.util.Random rnd = new java.util.Random(7);
        long previous = 0;
        for (int retry = 1; retry <= 50; retry++) {
            long d = decorrelated.delayNanos(retry, previous, rnd::nextDouble);
            assertTrue(d >= 100 * MS && d <= 1000 * MS, "decorrelated within [base, cap]: " + d);
            assertTrue(d <= Math.max(100 * MS, 3 * previous), "at most 3x the previous");
            previous = d;
            long f = full.delayNanos(retry, 0, rnd::nextDouble);
            assertTrue(f >= 0 && f <= 1000 * MS);
            long e = equal.delayNanos(retry, 0, rnd::nextDouble);
            long nominal = Math.min(1000, 100L << Math.min(retry - 1, 20)) * MS;
            assertTrue(e >= nominal / 2 && e <= nominal, "equal jitter within [d/2, d]");
        }
    }

    @Test
    void retriesUntilSuccess() throws Exception {
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ZERO)).listener(recorder).build();
        AtomicInteger attempts = new AtomicInteger();
        String r = retry.call(() -> {
            if (attempts.incrementAndGet() < 3) {
                throw new IOException("flaky");
            }
            return "ok";
        });
        assertEquals("ok", r);
        assertEquals(3, attempts.get());
        assertEquals(List.of("retry 1 after 0ms", "retry 2 after 0ms"), events);
    }

    @Test
    void exhaustedRetriesRethrowTheLastExceptionUnchanged() {
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).listener(recorder).build();
        AtomicInteger attempts = new AtomicInteger();
        List<IOException> thrown = new ArrayList<>();
        IOException last = assertThrows(IOException.class, () -> retry.call(() -> {
            attempts.incrementAndGet();
            IOException e = new IOException("attempt " + attempts.get());
            thrown.add(e);
            throw e;
        }));
        assertSame(thrown.get(2), last, "no wrapping");
        assertEquals(3, attempts.get());
        assertEquals("give up after 3: EXHAUSTED", events.get(events.size() - 1));
    }

    @Test
    void perClassRulesAndNever() throws Exception {
        Retry retry = Retry.builder("r")
                .on(TimeoutException.class, 4, Backoff.fixed(Duration.ZERO))
                .on(IOException.class, 2, Backoff.fixed(Duration.ZERO))
                .never(BusinessRejection.class)
                .listener(recorder).build();
        AtomicInteger a = new AtomicInteger();
        assertThrows(TimeoutException.class, () -> retry.call(() -> {
            a.incrementAndGet();
            throw new TimeoutException();
        }));
        assertEquals(4, a.get(), "timeouts: 4 attempts");
        a.set(0);
        assertThrows(IOException.class, () -> retry.call(() -> {
            a.incrementAndGet();
            throw new IOException();
        }));
        assertEquals(2, a.get(), "idempotent failures: 2 attempts");
        a.set(0);
        assertThrows(BusinessRejection.class, () -> retry.call(() -> {
            a.incrementAndGet();
            throw new BusinessRejection();
        }));
        assertEquals(1, a.get(), "business rejections: never");
        assertEquals("give up after 1: NOT_RETRYABLE", events.get(events.size() - 1));
    }

    @Test
    void guardRejectionsAndContextEndsAreNotRetriedByDefault() {
        Retry retry = Retry.builder("r").backoff(Backoff.fixed(Duration.ZERO)).build();
        AtomicInteger a = new AtomicInteger();
        assertThrows(CallNotPermittedException.class, () -> retry.call(() -> {
            a.incrementAndGet();
            throw new CallNotPermittedException("cb", CircuitBreaker.State.OPEN);
        }));
        assertEquals(1, a.get());
    }

    @Test
    void retryableResultsAndTheLastResultIsReturned() throws Exception {
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO))
                .retryOnResult(String.class, "503"::equals).build();
        AtomicInteger a = new AtomicInteger();
        assertEquals("503", retry.call(() -> {
            a.incrementAndGet();
            return "503";
        }));
        assertEquals(3, a.get());
        a.set(0);
        assertEquals("200", retry.call(() -> a.incrementAndGet() < 2 ? "503" : "200"));
    }

    @Test
    void asyncBackoffWaitsOnTheTicker() throws Exception {
        Retry retry = Retry.builder("r").maxAttempts(4)
                .backoff(Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1))).ticker(ticker).build();
        AtomicInteger a = new AtomicInteger();
        CompletableFuture<String> f = retry.<String>callAsync(() -> a.incrementAndGet() < 4
                ? CompletableFuture.failedFuture(new IOException("flaky"))
                : CompletableFuture.completedFuture("ok")).toCompletableFuture();
        assertEquals(1, a.get());
        ticker.advance(99 * MS);
        assertEquals(1, a.get());
        ticker.advance(MS);
        assertEquals(2, a.get(), "second attempt at 100 ms");
        ticker.advance(199 * MS);
        assertEquals(2, a.get());
        ticker.advance(MS);
        assertEquals(3, a.get(), "third at +200 ms");
        ticker.advance(400 * MS);
        assertEquals("ok", f.get());
    }

    @Test
    void mayRepeatIsAskedBeforeEachRetryAndFalseEndsTheCallWithTheAttemptsFailureAndNoWithdrawal() {
        RetryBudget budget = RetryBudget.of(1.0, 0.0, 100, ticker);
        budget.deposit();
        budget.deposit(); // 2, and the call deposits a third
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(10)))
                .budget(budget).ticker(ticker).listener(recorder).build();
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger asked = new AtomicInteger();
        IOException second = new IOException("after an element");
        CompletableFuture<String> f = retry.<String>callAsync(() -> CompletableFuture.failedFuture(
                attempts.incrementAndGet() == 1 ? new IOException("before") : second),
                () -> asked.incrementAndGet() == 1).toCompletableFuture();
        assertEquals(1, attempts.get());
        assertEquals(1, asked.get(), "asked before the first retry's backoff");
        ticker.advance(10 * MS);
        assertEquals(2, attempts.get());
        assertEquals(2, asked.get());
        assertTrue(f.isDone(), "the second answer was no: no third attempt");
        assertSame(second, assertThrows(ExecutionException.class, f::get).getCause(), "the attempt's own failure");
        assertEquals(List.of("retry 1 after 10ms", "give up after 2: NOT_RETRYABLE"), events);
        assertEquals(2.0, budget.balance(), 1e-9, "one retry withdrawn, none for the refused one");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(2, attempts.get());
    }

    @Test
    void aThrowingMayRepeatStopsTheRetriesAndTheFailureSurvivesWithItAttached() {
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build();
        IOException failure = new IOException("down");
        IllegalStateException broken = new IllegalStateException("mayRepeat broke");
        AtomicInteger attempts = new AtomicInteger();
        CompletableFuture<String> f = retry.<String>callAsync(() -> {
            attempts.incrementAndGet();
            return CompletableFuture.failedFuture(failure);
        }, () -> {
            throw broken;
        }).toCompletableFuture();
        assertSame(failure, assertThrows(ExecutionException.class, f::get).getCause());
        assertEquals(1, attempts.get());
        assertSame(broken, failure.getSuppressed()[0]);
        assertThrows(NullPointerException.class, () -> retry.callAsync(() -> null, null));
    }

    @Test
    void mayRepeatIsNotAskedForASuccessNorForAFailureTheRulesWouldNotRetry() {
        Retry retry = Retry.builder("r").maxAttempts(3).never(BusinessRejection.class).ticker(ticker).build();
        AtomicInteger asked = new AtomicInteger();
        assertEquals("ok", retry.<String>callAsync(() -> CompletableFuture.completedFuture("ok"), () -> asked.incrementAndGet() > 0)
                .toCompletableFuture().join());
        retry.<String>callAsync(() -> CompletableFuture.failedFuture(new BusinessRejection()), () -> asked.incrementAndGet() > 0);
        assertEquals(0, asked.get());
    }

    @Test
    void deadlineCutsRetriesShort() throws Exception {
        Retry retry = Retry.builder("r").maxAttempts(10).backoff(Backoff.fixed(Duration.ofMillis(100)))
                .ticker(ticker).listener(recorder).build();
        AtomicInteger a = new AtomicInteger();
        CompletableFuture<String> f;
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(250), ticker);
             Scope s = h.attach()) {
            f = retry.<String>callAsync(() -> {
                a.incrementAndGet();
                return CompletableFuture.failedFuture(new IOException("down"));
            }).toCompletableFuture();
            ticker.advance(100 * MS);
            ticker.advance(100 * MS);
            assertTrue(f.isDone());
        }
        assertEquals(3, a.get(), "attempts at 0, 100, 200 ms; a fourth at 300 would pass the 250 ms deadline");
        assertInstanceOf(IOException.class, assertThrows(ExecutionException.class, f::get).getCause());
        assertEquals("give up after 3: DEADLINE", events.get(events.size() - 1));
    }

    @Test
    void syncRetryDoesNotWaitPastTheDeadline() {
        Retry retry = Retry.builder("r").maxAttempts(10).backoff(Backoff.fixed(Duration.ofSeconds(5))).build();
        AtomicInteger a = new AtomicInteger();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(1)); Scope s = h.attach()) {
            assertThrows(IOException.class, () -> retry.call(() -> {
                a.incrementAndGet();
                throw new IOException("down");
            }));
        }
        assertEquals(1, a.get(), "a 5 s backoff under a 1 s deadline is not attempted");
    }

    @Test
    void cancellationDuringAsyncBackoffEndsTheCall() {
        Retry retry = Retry.builder("r").backoff(Backoff.fixed(Duration.ofSeconds(1))).ticker(ticker).build();
        CancelHandle h = Context.background().withCancel();
        CompletableFuture<String> f;
        try (Scope s = h.attach()) {
            f = retry.<String>callAsync(() -> CompletableFuture.failedFuture(new IOException("down")))
                    .toCompletableFuture();
        }
        assertFalse(f.isDone());
        h.cancel();
        assertInstanceOf(ContextCancelledException.class, assertThrows(ExecutionException.class, f::get).getCause());
        ticker.advance(Duration.ofSeconds(5));
    }

    @Test
    void serverDelayReplacesTheBackoff() {
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(10)))
                .retryOnResult(String.class, r -> r.startsWith("503"))
                .delayHint(String.class, (r, e) -> r != null ? Duration.ofSeconds(Long.parseLong(r.substring(4))) : null)
                .ticker(ticker).build();
        AtomicInteger a = new AtomicInteger();
        CompletableFuture<String> f = retry.<String>callAsync(() -> CompletableFuture.completedFuture(
                a.incrementAndGet() == 1 ? "503 2" : "200")).toCompletableFuture();
        ticker.advance(Duration.ofMillis(1999));
        assertEquals(1, a.get(), "Retry-After: 2 s, not the 10 ms backoff");
        ticker.advance(Duration.ofMillis(1));
        assertEquals("200", f.join());
    }

    @Test
    void budgetLimitsRetriesToAFractionOfTrafficPlusAMinimum() {
        RetryBudget budget = RetryBudget.of(0.1, 0, 5, ticker);
        assertFalse(budget.tryWithdraw(), "nothing banked yet");
        for (int i = 0; i < 10; i++) {
            budget.deposit();
        }
        assertTrue(budget.tryWithdraw(), "10 requests x 10% = 1 retry");
        assertFalse(budget.tryWithdraw());
        for (int i = 0; i < 1000; i++) {
            budget.deposit();
        }
        assertEquals(5.0, budget.balance(), 1e-9, "capped at maxBalance");
        RetryBudget minimum = RetryBudget.of(0, 2, 1, ticker);
        assertTrue(minimum.tryWithdraw());
        assertTrue(minimum.tryWithdraw());
        assertFalse(minimum.tryWithdraw(), "2 per second");
        ticker.advance(500 * MS);
        assertTrue(minimum.tryWithdraw(), "refilled");
        assertFalse(minimum.tryWithdraw());
    }

    @Test
    void aFirstAttemptRefusedByAGuardInsideDepositsNothingSyncAndAsync() throws Exception {
        RetryBudget budget = RetryBudget.of(1.0, 0, 100, ticker);
        RateLimiter limiter = RateLimiter.builder("inside").rate(1).burst(1).maxWait(Duration.ZERO).ticker(ticker).build();
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).budget(budget).build();
        assertTrue(limiter.tryAcquire(), "the limiter's one permit, so the calls below are refused");
        for (int i = 0; i < 5; i++) {
            assertThrows(RefusedException.class, () -> retry.call(() -> limiter.call(() -> "sent")));
            CompletableFuture<String> f = retry.callAsync(
                    () -> limiter.callAsync(() -> CompletableFuture.completedFuture("sent"))).toCompletableFuture();
            assertInstanceOf(RefusedException.class, assertThrows(ExecutionException.class, f::get).getCause());
        }
        assertEquals(0.0, budget.balance(), 1e-9, "10 refused calls sent nothing and earned no retry");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals("sent", retry.call(() -> limiter.call(() -> "sent")));
        assertEquals(1.0, budget.balance(), 1e-9, "a sent first attempt deposits, synchronously");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals("sent", retry.callAsync(() -> limiter.callAsync(() -> CompletableFuture.completedFuture("sent")))
                .toCompletableFuture().get());
        assertEquals(2.0, budget.balance(), 1e-9, "and asynchronously");
        Retry once = Retry.builder("once").maxAttempts(1).budget(budget).build();
        CompletableFuture<String> later = new CompletableFuture<>();
        CompletableFuture<String> pending = once.callAsync(() -> later).toCompletableFuture();
        assertEquals(2.0, budget.balance(), 1e-9, "deposited when the first attempt ends, not before");
        IOException failed = new IOException("failed, but sent");
        later.completeExceptionally(failed);
        assertSame(failed, assertThrows(ExecutionException.class, pending::get).getCause());
        assertEquals(3.0, budget.balance(), 1e-9, "a failed first attempt was sent: it deposits");
        assertThrows(IOException.class, () -> once.call(() -> {
            throw new IOException("sent");
        }));
        assertEquals(4.0, budget.balance(), 1e-9, "synchronously too");
    }

    @Test
    void aRefusalAsTheCauseOfAnotherExceptionIsNotRetriedAndItAndAMissingStageDepositNothing() throws Exception {
        RetryBudget budget = RetryBudget.of(1.0, 0, 100, ticker);
        for (int i = 0; i < 5; i++) {
            budget.deposit(); // retries to spare: only the classification can stop them
        }
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).budget(budget).build();
        RequestNotPermittedException refusal = new RequestNotPermittedException("inside",
                RequestNotPermittedException.Reason.LIMIT_EXCEEDED, "full");
        IOException wrapped = new IOException("refused by an interceptor", refusal); // as OkHttp's RefusedIOException
        AtomicInteger attempts = new AtomicInteger();
        assertSame(wrapped, assertThrows(IOException.class, () -> retry.call(() -> {
            attempts.incrementAndGet();
            throw wrapped;
        })));
        assertEquals(1, attempts.get(), "a wrapped refusal is not retried by default, as a refusal is not");
        assertEquals(5.0, budget.balance(), 1e-9, "nothing sent: no deposit, no retry taken");
        CompletableFuture<String> none = retry.<String>callAsync(() -> null).toCompletableFuture();
        assertThrows(ExecutionException.class, none::get);
        assertEquals(5.0, budget.balance(), 1e-9, "an attempt that returned no stage sent nothing: "
                + "no deposit (and a programming error is not retried)");
    }

    @Test
    void isRefusalLooksEightCausesDeepAndNeverThrows() {
        RequestNotPermittedException refusal = new RequestNotPermittedException("inside",
                RequestNotPermittedException.Reason.LIMIT_EXCEEDED, "full");
        assertTrue(RefusedException.isRefusal(refusal));
        assertTrue(RefusedException.isRefusal(new RuntimeException(new RuntimeException(refusal))));
        assertFalse(RefusedException.isRefusal(new IOException("sent")));
        assertFalse(RefusedException.isRefusal(null));
        Throwable deep = refusal;
        for (int i = 0; i < 7; i++) {
            deep = new RuntimeException(deep);
        }
        assertTrue(RefusedException.isRefusal(deep), "the eighth level is searched");
        assertFalse(RefusedException.isRefusal(new RuntimeException(deep)), "the ninth is not");
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertFalse(RefusedException.isRefusal(a), "a cycle of causes ends at the depth bound");
        RuntimeException unreadable = new RuntimeException("odd") {
            private static final long serialVersionUID = 1L;

            @Override
            public Throwable getCause() {
                throw new IllegalStateException("no cause for you");
            }
        };
        assertFalse(RefusedException.isRefusal(unreadable), "a getCause that throws: not a refusal, no exception");
        assertTrue(Retry.notSent(refusal));
        assertFalse(Retry.notSent(unreadable));
    }

    @Test
    void exhaustedBudgetStopsRetrying() {
        RetryBudget budget = RetryBudget.of(0.5, 0, 10, ticker);
        Retry retry = Retry.builder("r").maxAttempts(5).backoff(Backoff.fixed(Duration.ZERO)).budget(budget)
                .listener(recorder).build();
        AtomicInteger a = new AtomicInteger();
        for (int call = 0; call < 4; call++) {
            assertThrows(IOException.class, () -> retry.call(() -> {
                a.incrementAndGet();
                throw new IOException("down");
            }));
        }
        assertEquals(4 + 2, a.get(), "4 calls deposit 2 retries in all: an outage cannot multiply load");
        assertEquals("give up after 2: BUDGET", events.get(events.size() - 1));
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> Retry.builder("r").maxAttempts(0));
        assertThrows(IllegalStateException.class, () -> Retry.builder("r").maxAttempts(2).maxAttempts(3));
        assertThrows(IllegalArgumentException.class, () -> Backoff.fixed(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class,
                () -> Backoff.exponential(Duration.ofMillis(100), 0.5, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> Backoff.exponential(Duration.ofSeconds(2), 2, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> RetryBudget.of(-0.1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> RetryBudget.of(Double.NaN, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> RetryBudget.of(0.1, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> RetryBudget.of(0.1, 1, 0));
        assertEquals("type", assertThrows(NullPointerException.class,
                () -> Retry.builder("r").on(null, 2, Backoff.fixed(Duration.ZERO))).getMessage());
        assertEquals("task", assertThrows(NullPointerException.class, () -> Retry.builder("r").build().call(null))
                .getMessage());
    }

    @Test
    void maxDelayCutsTheBackoffAndRefusesALongerHint() throws Exception {
        Retry capped = Retry.builder("m").maxAttempts(3).backoff(Backoff.fixed(Duration.ofSeconds(60)))
                .maxDelay(Duration.ofMillis(1)).build();
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        long start = System.nanoTime();
        assertEquals("third", capped.call(() -> {
            if (n.incrementAndGet() < 3) {
                throw new java.io.IOException("again");
            }
            return "third";
        }));
        assertTrue(System.nanoTime() - start < java.util.concurrent.TimeUnit.SECONDS.toNanos(5), "waited 1 ms, not 60 s");
        java.util.List<RetryListener.GiveUp> gaveUp = new java.util.concurrent.CopyOnWriteArrayList<>();
        Retry hinted = Retry.builder("h").maxAttempts(3).maxDelay(Duration.ofSeconds(1))
                .delayHint(String.class, (r, e) -> Duration.ofSeconds(10)).retryOnResult(String.class, "busy"::equals)
                .listener(new RetryListener() {
                    @Override
                    public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
                        gaveUp.add(reason);
                    }
                }).build();
        n.set(0);
        assertEquals("busy", hinted.call(() -> {
            n.incrementAndGet();
            return "busy";
        }));
        assertEquals(1, n.get());
        assertEquals(java.util.List.of(RetryListener.GiveUp.DELAY_TOO_LONG), gaveUp);
    }
}
