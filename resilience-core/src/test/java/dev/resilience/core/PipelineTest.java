package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The documented order, why it matters, and what comes out. */
class PipelineTest {

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker();

    private Retry retry(int attempts) {
        return Retry.builder("retry").maxAttempts(attempts).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build();
    }

    private Timeout timeout(long ms) {
        return Timeout.builder("timeout").timeout(Duration.ofMillis(ms)).ticker(ticker).build();
    }

    @Test
    void mayRepeatReachesEveryRetryOfThePipelineAndAHedgingPipelineRefusesIt() {
        AtomicInteger innerAttempts = new AtomicInteger();
        AtomicInteger asked = new AtomicInteger();
        Pipeline<String> twoRetries = Pipeline.<String>builder("p").add(retry(3)).add(Retry.builder("inner").maxAttempts(3)
                .backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build()).build();
        IOException down = new IOException("down");
        CompletableFuture<String> f = twoRetries.callAsync(() -> {
            innerAttempts.incrementAndGet();
            return CompletableFuture.failedFuture(down);
        }, () -> asked.incrementAndGet() < 3).toCompletableFuture();
        assertTrue(f.isCompletedExceptionally());
        assertEquals(3, asked.get(), "asked by both retries; the third no ends it");
        assertEquals(3, innerAttempts.get(), "two retries allowed, then none");

        Pipeline<String> hedged = Pipeline.<String>builder("h").add(Hedge.builder("hedge").delay(Duration.ofMillis(5)).build()).build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> hedged.callAsync(() -> CompletableFuture.completedFuture("x"), () -> true));
        assertTrue(e.getMessage().contains("pipeline 'h' hedges"), e.getMessage());
        assertThrows(NullPointerException.class, () -> twoRetries.callAsync(() -> null, null));

        Policy ownRetry = new PassThrough("mine") { // repeats the task its own way: it could not be asked
            @Override
            public Kind kind() {
                return Kind.RETRY;
            }

            @Override
            public <R> java.util.concurrent.CompletionStage<R> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<R>> task) {
                return task.get();
            }
        };
        Pipeline<String> custom = Pipeline.<String>builder("c").add(ownRetry).build();
        assertTrue(assertThrows(IllegalStateException.class, () -> custom.callAsync(() -> null, () -> true))
                .getMessage().contains("a retry of its own (mine)"));
    }

    @Test
    void defaultOrderIsOutermostFirst() {
        Pipeline<String> p = Pipeline.<String>builder("p")
                .add(Bulkhead.builder("b").maxConcurrent(1).build())
                .add(timeout(100))
                .add(retry(2))
                .add(Fallback.<String>always().toValue("x"))
                .add(CircuitBreaker.builder("cb").build())
                .add(RateLimiter.builder("rl").rate(10).build())
                .inDefaultOrder().build();
        assertEquals(List.of(Policy.Kind.FALLBACK, Policy.Kind.RETRY, Policy.Kind.CIRCUIT_BREAKER,
                Policy.Kind.RATE_LIMITER, Policy.Kind.TIMEOUT, Policy.Kind.CONCURRENCY_LIMIT), p.kinds());
        assertEquals(List.of("fallback", "retry", "cb", "rl", "timeout", "b"), p.policyNames());
    }

    /** Each attempt takes 200 ms and fails. */
    private String slowFailure(AtomicInteger attempts) throws IOException {
        attempts.incrementAndGet();
        ticker.advance(200 * MS);
        throw new IOException("slow failure " + attempts.get());
    }

    @Test
    void theListenerHearsEachWholeCallWithItsDurationAndOutcome() throws Exception {
        List<String> heard = new ArrayList<>();
        Pipeline<String> p = Pipeline.<String>builder("p").add(retry(3)).ticker(ticker)
                .listener(new PipelineListener() {
                    @Override
                    public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
                        heard.add(pipeline.name() + " " + durationNanos / MS + " ms "
                                + (failure == null ? "ok" : failure.getMessage()));
                    }
                }).inDefaultOrder().build();
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(IOException.class, () -> p.call(() -> slowFailure(attempts)));
        assertEquals("ok", p.call(() -> "ok"));
        CompletableFuture<String> async = new CompletableFuture<>();
        CompletableFuture<String> result = p.callAsync(() -> async).toCompletableFuture();
        ticker.advance(50 * MS);
        async.complete("later");
        assertEquals("later", result.get());
        assertEquals(List.of("p 600 ms slow failure 3", "p 0 ms ok", "p 50 ms ok"), heard,
                "one report per call, after all three attempts");
    }

    @Test
    void withoutSomeKindsKeepsTheOtherPoliciesTheTickerAndTheListeners() throws Exception {
        List<String> heard = new ArrayList<>();
        Hedge hedge = Hedge.builder("hedge").delay(Duration.ofMillis(5)).build();
        Retry retry = retry(3);
        Pipeline<String> full = Pipeline.<String>builder("p").add(retry).add(hedge).ticker(ticker)
                .listener(new PipelineListener() {
                    @Override
                    public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
                        heard.add("first " + pipeline.name() + " " + durationNanos / MS + " ms");
                    }
                }).build();
        assertSame(full, full.without(Policy.Kind.TIMEOUT), "nothing to leave out: the pipeline itself");
        assertSame(full, full.without(), "no kind given");
        Pipeline<String> lean = full.without(Policy.Kind.HEDGE, Policy.Kind.FALLBACK);
        assertEquals(List.of(retry), lean.policies(), "the same instances, the hedge left out");
        assertEquals(List.of(retry, hedge), full.policies(), "the original is unchanged");
        assertEquals("p", lean.name());
        lean.addListener(new PipelineListener() {
            @Override
            public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
                heard.add("later " + durationNanos / MS + " ms");
            }
        });
        assertEquals("ok", lean.call(() -> {
            ticker.advance(70 * MS);
            return "ok";
        }));
        assertEquals(List.of("first p 70 ms", "later 70 ms"), heard,
                "the listeners of both, timed on the pipeline's own (manual) ticker");
        heard.clear();
        assertEquals("ok", full.call(() -> "ok"));
        assertEquals(List.of("first p 0 ms", "later 0 ms"), heard, "one set of listeners, added through either");
        assertThrows(NullPointerException.class, () -> full.without((Policy.Kind) null));
        assertThrows(NullPointerException.class, () -> full.without((Policy.Kind[]) null));
    }

    @Test
    void retryOutsideTimeoutGivesEachAttemptTheFullTimeout() {
        Pipeline<String> p = Pipeline.<String>builder("p").add(retry(3)).add(timeout(300)).inDefaultOrder().build();
        AtomicInteger attempts = new AtomicInteger();
        IOException e = assertThrows(IOException.class, () -> p.call(() -> slowFailure(attempts)));
        assertEquals(3, attempts.get());
        assertEquals("slow failure 3", e.getMessage(), "the last failure, unchanged");
    }

    @Test
    void timeoutOutsideRetryBoundsAllAttemptsTogether() {
        Pipeline<String> p = Pipeline.<String>builder("p").add(timeout(300)).add(retry(3)).build();
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(TimeoutExceededException.class, () -> p.call(() -> slowFailure(attempts)));
        assertEquals(2, attempts.get(), "the second attempt ran past the 300 ms of the whole call");
    }

    @Test
    void everyAttemptSeesTheRemainingDeadline() throws Exception {
        Pipeline<Long> p = Pipeline.<Long>builder("p").add(retry(3)).add(timeout(300)).inDefaultOrder().build();
        List<Long> seen = new ArrayList<>();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(250), ticker); Scope s = h.attach()) {
            p.call(() -> {
                seen.add(Context.current().remainingNanos());
                if (seen.size() < 2) {
                    ticker.advance(100 * MS);
                    throw new IOException("again");
                }
                return 0L;
            });
        }
        assertEquals(List.of(250 * MS, 150 * MS), seen, "the caller's 250 ms, less what the first attempt used");
    }

    @Test
    void fallbackOutermostCatchesTheBreakersRefusal() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("cb").ticker(ticker).build();
        breaker.forceOpen();
        Pipeline<String> p = Pipeline.<String>builder("p")
                .add(Fallback.<String>on(CallNotPermittedException.class).toValue("cached"))
                .add(retry(3)).add(breaker).inDefaultOrder().build();
        AtomicInteger calls = new AtomicInteger();
        assertEquals("cached", p.call(() -> "live " + calls.incrementAndGet()));
        assertEquals(0, calls.get());
    }

    @Test
    void ownExceptionsComeOutUnchanged() {
        Pipeline<String> p = Pipeline.<String>builder("p").add(retry(2))
                .add(CircuitBreaker.builder("cb").build())
                .add(Bulkhead.builder("b").maxConcurrent(2).build()).inDefaultOrder().build();
        IllegalStateException own = new IllegalStateException("own");
        assertSame(own, assertThrows(IllegalStateException.class, () -> p.call(() -> {
            throw own;
        })));
    }

    @Test
    void asyncPipeline() throws Exception {
        Pipeline<String> p = Pipeline.<String>builder("p")
                .add(Fallback.<String>on(IOException.class).toValue("fallback"))
                .add(retry(3)).add(timeout(300)).add(Bulkhead.builder("b").maxConcurrent(5).build()).inDefaultOrder().build();
        AtomicInteger attempts = new AtomicInteger();
        assertEquals("ok", p.callAsync(() -> attempts.incrementAndGet() < 3
                ? CompletableFuture.failedFuture(new IOException("flaky"))
                : CompletableFuture.completedFuture("ok")).toCompletableFuture().get());
        assertEquals("fallback", p.callAsync(() -> CompletableFuture.<String>failedFuture(new IOException("down")))
                .toCompletableFuture().get());
    }

    @Test
    void runThroughThePipeline() throws Exception {
        Pipeline<Void> p = Pipeline.<Void>builder("p").add(retry(3)).inDefaultOrder().build();
        AtomicInteger runs = new AtomicInteger();
        p.run(() -> {
            if (runs.incrementAndGet() < 2) {
                throw new IllegalStateException("once");
            }
        });
        assertEquals(2, runs.get());
    }

    @Test
    void callUnderAGivenContext() throws Exception {
        Context.Key<String> tenant = Context.Key.named("tenant");
        Pipeline<String> p = Pipeline.<String>builder("p").add(retry(1)).inDefaultOrder().build();
        assertEquals("acme", p.call(Context.background().withValue(tenant, "acme"), tenant::get));
    }

    @Test
    void badArguments() throws Exception {
        Retry retry = retry(1);
        assertThrows(IllegalArgumentException.class, () -> Pipeline.<String>builder("p").add(retry).add(retry),
                "one policy instance twice");
        Fallback<String> fallback = Fallback.<String>always().toValue("x");
        assertThrows(IllegalArgumentException.class, () -> Pipeline.<String>builder("p").add(fallback).add(fallback));
        assertEquals("policy", assertThrows(NullPointerException.class,
                () -> Pipeline.<String>builder("p").add((Policy) null)).getMessage());
        assertEquals("fallback", assertThrows(NullPointerException.class,
                () -> Pipeline.<String>builder("p").add((Fallback<String>) null)).getMessage());
        IllegalStateException custom = assertThrows(IllegalStateException.class,
                () -> Pipeline.<String>builder("p").add(retry).add(new Recording("mine", new ArrayList<>()))
                        .inDefaultOrder().build());
        assertTrue(custom.getMessage().contains("'mine'"), custom.getMessage());
        assertEquals(Policy.Kind.FALLBACK, Pipeline.DEFAULT_ORDER.get(0));
        assertEquals("x", Pipeline.<String>builder("empty").build().call(() -> "x"), "no policy: just the call");
    }

    /** A user policy whose blocking path passes the call on; subclasses say what callAsync does and may wrap execute. */
    abstract static class PassThrough implements Policy {
        private final String name;

        PassThrough(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public <T> T execute(Invoker<T> chain, int next, java.util.concurrent.Callable<T> task) throws Exception {
            return chain.invoke(next, task);
        }
    }

    /** A user policy outermost whose callAsync throws, or returns no stage. */
    static final class Broken extends PassThrough {
        final boolean throwing;

        Broken(boolean throwing) {
            super(throwing ? "throwing" : "null-stage");
            this.throwing = throwing;
        }

        @Override
        public <T> java.util.concurrent.CompletionStage<T> callAsync(
                java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
            if (throwing) {
                throw new IllegalStateException("a policy's bug");
            }
            return null;
        }
    }

    @Test
    void anOutermostPolicyThatThrowsOrReturnsNoStageFailsTheCallersStage() {
        for (boolean throwing : new boolean[] {true, false}) {
            for (boolean listening : new boolean[] {false, true}) {
                Pipeline.Builder<String> b = Pipeline.<String>builder("p").add(new Broken(throwing)).add(retry(2));
                List<Throwable> heard = new ArrayList<>();
                if (listening) {
                    b.listener(new PipelineListener() {
                        @Override
                        public void onCall(Pipeline<?> pipeline, long nanos, Throwable failure) {
                            heard.add(failure);
                        }
                    });
                }
                Pipeline<String> p = b.build();
                java.util.concurrent.CompletionStage<String> stage = p.callAsync(
                        () -> java.util.concurrent.CompletableFuture.completedFuture("ok"));
                assertNotNull(stage, "a stage, never null");
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> stage.toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS));
                if (throwing) {
                    assertEquals("a policy's bug", e.getCause().getMessage());
                } else {
                    assertTrue(e.getCause() instanceof NullPointerException, e.getCause().toString());
                }
                if (listening) {
                    assertEquals(1, heard.size(), "the listener heard the call once");
                }
            }
        }
    }

    /** A user-written policy: records entry and exit around whatever is inside it. */
    static final class Recording extends PassThrough {
        final List<String> log;

        Recording(String name, List<String> log) {
            super(name);
            this.log = log;
        }

        @Override
        public <T> T execute(Invoker<T> chain, int next, java.util.concurrent.Callable<T> task) throws Exception {
            log.add(name() + ">");
            try {
                return super.execute(chain, next, task);
            } finally {
                log.add("<" + name());
            }
        }

        @Override
        public <T> java.util.concurrent.CompletionStage<T> callAsync(
                java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
            log.add(name() + ">");
            return Policy.start(task).whenComplete((v, e) -> log.add("<" + name()));
        }
    }

    @Test
    void aPipelineOfMoreLayersThanItHasNodeClassesForRunsEveryLayerInOrder() throws Exception {
        // Positions 0-5 have node classes of their own, the rest share one: all compose alike.
        List<String> log = new ArrayList<>();
        Pipeline.Builder<Integer> b = Pipeline.builder("deep");
        for (int i = 0; i < 9; i++) {
            b.add(new Recording("p" + i, log));
        }
        b.add(retry(2));
        Pipeline<Integer> p = b.build();
        AtomicInteger attempts = new AtomicInteger();
        assertEquals(2, p.call(() -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IOException("first attempt fails");
            }
            return attempts.get();
        }));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            expected.add("p" + i + ">");
        }
        for (int i = 8; i >= 0; i--) {
            expected.add("<p" + i);
        }
        assertEquals(expected, log, "each layer entered once, in order, around the retry innermost");
    }

    @Test
    void policiesWrapInTheOrderAddedAndAUserPolicyComposesLikeAnyOther() throws Exception {
        List<String> log = new ArrayList<>();
        AdaptiveLimiter adaptive = AdaptiveLimiter.builder("adaptive")
                .algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1))).ticker(ticker).build();
        Pipeline<String> p = Pipeline.<String>builder("p")
                .add(new Recording("outer", log))
                .add(Fallback.<String>on(RefusedException.class).to(e -> "refused by " + ((RefusedException) e).policy()))
                .add(retry(2))
                .add(new Recording("inner", log))
                .add(adaptive)
                .build();
        assertEquals(List.of("outer", "fallback", "retry", "inner", "adaptive"), p.policyNames());
        assertEquals(List.of(Policy.Kind.CUSTOM, Policy.Kind.FALLBACK, Policy.Kind.RETRY, Policy.Kind.CUSTOM,
                Policy.Kind.CONCURRENCY_LIMIT), p.kinds());
        AtomicInteger attempts = new AtomicInteger();
        assertEquals("ok", p.call(() -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IOException("first attempt fails");
            }
            assertEquals(1, adaptive.inFlight(), "the adaptive limiter holds a permit around the call");
            return "ok";
        }));
        assertEquals(List.of("outer>", "inner>", "<inner", "inner>", "<inner", "<outer"), log,
                "the retry runs what is inside it again, the user policy included");
        assertEquals(0, adaptive.inFlight());

        Permit held = adaptive.tryAcquire();
        assertTrue(held.isPermitted());
        log.clear();
        assertEquals("refused by adaptive", p.call(() -> "never"), "the limit's refusal reaches the fallback");
        held.onSuccess();

        log.clear();
        assertEquals("async", p.callAsync(() -> java.util.concurrent.CompletableFuture.completedFuture("async"))
                .toCompletableFuture().get());
        assertEquals(List.of("outer>", "inner>", "<inner", "<outer"), log);
        assertEquals(0, adaptive.inFlight());
    }

    @Test
    void everyGuardIsAPolicyOfItsKind() {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(5)).build();
        List<Policy> guards = List.of(RateLimiter.builder("a").rate(1).build(), CircuitBreaker.builder("b").build(),
                retry(1), timeout(1), hedge, Bulkhead.builder("c").maxConcurrent(1).build(),
                AdaptiveLimiter.builder("d").algorithm(LimitAlgorithm.vegas(1, 1, 1)).build(),
                FaultInjection.builder("e").build());
        assertEquals(List.of(Policy.Kind.RATE_LIMITER, Policy.Kind.CIRCUIT_BREAKER, Policy.Kind.RETRY,
                Policy.Kind.TIMEOUT, Policy.Kind.HEDGE, Policy.Kind.CONCURRENCY_LIMIT, Policy.Kind.CONCURRENCY_LIMIT,
                Policy.Kind.FAULT_INJECTION), guards.stream().map(Policy::kind).toList());
        assertEquals(List.of("a", "b", "retry", "timeout", "h", "c", "d", "e"), guards.stream().map(Policy::name).toList());
    }
}
