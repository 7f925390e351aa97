package dev.resilience.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Policy;
import dev.resilience.core.RetryListener;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The engine every client adapter shares, driven by a scripted "client" (no network). */
class HttpPolicyTest {

    /** A response of a made-up client: what the engine sees through {@link HttpPolicy.Responses}. */
    static final class Resp {
        final int status;
        final String retryAfter;
        volatile boolean discarded;

        Resp(int status, String retryAfter) {
            this.status = status;
            this.retryAfter = retryAfter;
        }
    }

    static final HttpPolicy.Responses<Resp> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(Resp r) {
            return r.status;
        }

        @Override
        public String header(Resp r, String name) {
            return "retry-after".equals(name) ? r.retryAfter : null;
        }

        @Override
        public void discard(Resp r) {
            r.discarded = true;
        }
    };

    private static Callable<Resp> script(List<Resp> sent, Object... outcomes) {
        Deque<Object> q = new ArrayDeque<>(List.of(outcomes));
        return () -> {
            Object o = q.isEmpty() ? new Resp(200, null) : q.poll();
            if (o instanceof Exception) {
                throw (Exception) o;
            }
            sent.add((Resp) o);
            return (Resp) o;
        };
    }

    private static HttpPolicy retrying(int attempts) {
        return HttpPolicy.builder("t").retry(attempts, Backoff.fixed(Duration.ZERO)).build();
    }

    /**
     * A hedge runs attempts at once: every response but the caller's is discarded, one that loses
     * to a later attempt as well as one that arrives after the call ended (found by review: the
     * engine remembered one "last" response, so a hedge's loser kept its connection for good).
     */
    @Test
    void aHedgedCallDiscardsEveryResponseButTheCallers() throws Exception {
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            HttpPolicy policy = HttpPolicy.builder("h")
                    .add(dev.resilience.core.Hedge.builder("g").delay(Duration.ofMillis(20)).maxHedges(1).executor(threads).build())
                    .build();
            assertTrue(policy.hedges());
            // 1: the first attempt answers 503 while the second runs; the second answers 200 and wins
            java.util.concurrent.CountDownLatch secondStarted = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch firstAnswered = new java.util.concurrent.CountDownLatch(1);
            Resp failing = new Resp(503, null);
            Resp winning = new Resp(200, null);
            AtomicInteger n = new AtomicInteger();
            Resp got = policy.execute("GET", () -> {
                if (n.incrementAndGet() == 1) {
                    secondStarted.await(5, TimeUnit.SECONDS);
                    firstAnswered.countDown();
                    return failing;
                }
                secondStarted.countDown();
                firstAnswered.await(5, TimeUnit.SECONDS);
                return winning;
            }, RESPONSES);
            assertSame(winning, got);
            assertFalse(winning.discarded);
            // the first attempt's 503 may reach the hedge before or after the winner (both threads are
            // released together); after the winner it is freed on the hedge's thread once it returns
            awaitDiscarded(failing, "the loser's response is freed");
            // 2: the second attempt wins while the first still waits; the first answers after the call
            java.util.concurrent.CountDownLatch late = new java.util.concurrent.CountDownLatch(1);
            Resp lateAnswer = new Resp(200, null);
            Resp quick = new Resp(200, null);
            AtomicInteger m = new AtomicInteger();
            Resp got2 = policy.execute("GET", () -> {
                if (m.incrementAndGet() == 1) {
                    late.await(5, TimeUnit.SECONDS);
                    return lateAnswer;
                }
                return quick;
            }, RESPONSES);
            assertSame(quick, got2);
            late.countDown();
            // the late attempt returns on the hedge's thread
            awaitDiscarded(lateAnswer, "a response that arrives after the call ended is freed");
            assertFalse(quick.discarded);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Waits up to 5 s for {@code r} to be freed (on another thread), then asserts it was. */
    private static void awaitDiscarded(Resp r, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!r.discarded && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertTrue(r.discarded, what);
    }

    @Test
    void aResponseRetriedForItsValueIsFreedBeforeTheNextAttempt() throws Exception {
        HttpPolicy policy = HttpPolicy.builder("r")
                .add(dev.resilience.core.Retry.builder("accepted").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO))
                        .retryOnResult(Resp.class, r -> r.status == 202).build())
                .build();
        Resp accepted = new Resp(202, null);
        Resp done = new Resp(200, null);
        List<Boolean> freedBeforeSecond = new ArrayList<>();
        AtomicInteger n = new AtomicInteger();
        Resp got = policy.execute("GET", () -> {
            if (n.incrementAndGet() == 1) {
                return accepted;
            }
            freedBeforeSecond.add(accepted.discarded);
            return done;
        }, RESPONSES);
        assertSame(done, got);
        assertEquals(List.of(true), freedBeforeSecond, "the retried 202 was freed before the next attempt needed a connection");
        assertFalse(done.discarded);
    }

    @Test
    void cancellingTheAsyncResultStopsTheCallAndFreesTheLateResponse() {
        dev.resilience.core.Bulkhead bulkhead = dev.resilience.core.Bulkhead.builder("b").maxConcurrent(1).build();
        HttpPolicy policy = HttpPolicy.builder("c").bulkhead(bulkhead).build();
        CompletableFuture<Resp> client = new CompletableFuture<>();
        CompletableFuture<Resp> result = policy.executeAsync("GET", () -> client, RESPONSES);
        assertEquals(1, bulkhead.inUse());
        assertTrue(result.cancel(false));
        assertEquals(0, bulkhead.inUse(), "the caller's cancel reached the policies");
        assertFalse(client.isCancelled(), "the client's own future is left to the client (its context tells it)");
        Resp late = new Resp(200, null);
        client.complete(late);
        assertTrue(late.discarded, "the response nobody will read is freed");
    }

    @Test
    void failingStatusesAreRetriedAndEachRetriedResponseIsDiscarded() throws Exception {
        List<Resp> sent = new ArrayList<>();
        Resp last = retrying(3).execute("GET", script(sent, new Resp(503, null), new Resp(500, null), new Resp(200, null)), RESPONSES);
        assertEquals(200, last.status);
        assertEquals(3, sent.size());
        assertTrue(sent.get(0).discarded && sent.get(1).discarded, "retried responses are discarded");
        assertFalse(last.discarded, "the caller's response is not");
    }

    @Test
    void whenRetriesRunOutTheCallerGetsTheLastFailingResponseUndiscarded() throws Exception {
        List<Resp> sent = new ArrayList<>();
        Resp last = retrying(2).execute("GET", script(sent, new Resp(503, null), new Resp(429, null)), RESPONSES);
        assertEquals(429, last.status);
        assertFalse(last.discarded);
        assertTrue(sent.get(0).discarded);
    }

    @Test
    void aWholePipelineKeepsItsListenersAndRunsWithoutItsRetryWhatMayNotBeSentTwice() throws Exception {
        List<String> heard = new ArrayList<>();
        dev.resilience.core.Pipeline<Object> pipeline = dev.resilience.core.Pipeline.builder("payments")
                .add(dev.resilience.core.Retry.builder("payments").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build())
                .listener(new dev.resilience.core.PipelineListener() {
                    @Override
                    public void onCall(dev.resilience.core.Pipeline<?> p, long durationNanos, Throwable failure) {
                        heard.add(p.name() + " " + (failure == null ? "ok" : "failed"));
                    }
                }).build();
        HttpPolicy policy = HttpPolicy.builder("payments").pipeline(pipeline).build();
        assertFalse(policy.hedges());
        List<Resp> sent = new ArrayList<>();
        assertEquals(200, policy.execute("GET", script(sent, new Resp(503, null)), RESPONSES).status);
        assertEquals(2, sent.size(), "a GET retried by the pipeline's own retry");
        assertTrue(sent.get(0).discarded, "the retried 503 was discarded before the next attempt");
        assertFalse(sent.get(1).discarded, "the response the caller gets is not");
        sent.clear();
        assertEquals(503, policy.execute("POST", script(sent, new Resp(503, null)), RESPONSES).status);
        assertEquals(1, sent.size(), "a POST runs through the pipeline without its retry");
        sent.clear();
        assertEquals(503, policy.execute("GET", false, script(sent, new Resp(503, null)), RESPONSES).status);
        assertEquals(1, sent.size(), "nor is a request whose body cannot be sent twice");
        assertEquals(List.of("payments ok", "payments failed", "payments failed"), heard,
                "the pipeline's listener heard every request, on each path");

        sent.clear();
        HttpPolicy anyMethod = HttpPolicy.builder("payments").pipeline(pipeline).retryNonIdempotent().build();
        assertEquals(200, anyMethod.execute("POST", script(sent, new Resp(503, null)), RESPONSES).status);
        assertEquals(2, sent.size(), "retryNonIdempotent: a POST retried too");

        IllegalStateException beside = assertThrows(IllegalStateException.class,
                () -> HttpPolicy.builder("payments").pipeline(pipeline).retry(1, Backoff.fixed(Duration.ZERO)).build());
        assertTrue(beside.getMessage().contains("whole policy") && beside.getMessage().contains("[retry]"), beside.getMessage());
        List<java.util.function.UnaryOperator<HttpPolicy.Builder>> otherParts = List.of(
                b -> b.add(CircuitBreaker.builder("b").build()),
                b -> b.retryBudget(dev.resilience.core.RetryBudget.of(0.1, 10, 100)),
                b -> b.maxRetryDelay(Duration.ofSeconds(1)),
                b -> b.retryListener(RetryListener.NOOP),
                b -> b.timeoutListener(dev.resilience.core.TimeoutListener.NOOP),
                b -> b.circuitBreaker(CircuitBreaker.builder("b").build()),
                b -> b.timeout(Duration.ofSeconds(1)),
                b -> b.bulkhead(dev.resilience.core.Bulkhead.builder("b").maxConcurrent(1).build()));
        for (java.util.function.UnaryOperator<HttpPolicy.Builder> part : otherParts) {
            assertThrows(IllegalStateException.class, () -> part.apply(HttpPolicy.builder("payments").pipeline(pipeline)).build(),
                    "a part set beside the pipeline would be ignored: refused");
        }
        assertThrows(IllegalStateException.class, () -> HttpPolicy.builder("payments").pipeline(pipeline).pipeline(pipeline));
        assertThrows(NullPointerException.class, () -> HttpPolicy.builder("payments").pipeline(null));

        dev.resilience.core.Pipeline<Object> hedged = dev.resilience.core.Pipeline.builder("hedged")
                .add(dev.resilience.core.Hedge.builder("h").delay(Duration.ofMillis(20)).build()).build();
        assertTrue(HttpPolicy.builder("hedged").pipeline(hedged).build().hedges(), "a pipeline's hedge is seen");
    }

    @Test
    void nonIdempotentMethodsAreNotRetriedUnlessAskedFor() throws Exception {
        List<Resp> sent = new ArrayList<>();
        assertEquals(503, retrying(3).execute("post", script(sent, new Resp(503, null)), RESPONSES).status);
        assertEquals(1, sent.size());
        sent.clear();
        HttpPolicy p = HttpPolicy.builder("t").retry(3, Backoff.fixed(Duration.ZERO)).retryNonIdempotent().build();
        assertEquals(200, p.execute("POST", script(sent, new Resp(503, null)), RESPONSES).status);
        assertEquals(2, sent.size());
    }

    @Test
    void retryAfterOnA503ReplacesTheBackoffAndTooLongEndsTheRetries() throws Exception {
        List<Resp> sent = new ArrayList<>();
        // a backoff far above any stall of a loaded machine, so that the bound below tells them apart
        HttpPolicy slow = HttpPolicy.builder("t").retry(3, Backoff.fixed(Duration.ofSeconds(120)))
                .maxRetryDelay(Duration.ofSeconds(60)).build();
        long t0 = System.nanoTime();
        assertEquals(200, slow.execute("GET", script(sent, new Resp(503, "0")), RESPONSES).status);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "Retry-After: 0 replaced the 120 s backoff (cut to 60 s)");
        sent.clear();
        HttpPolicy p = HttpPolicy.builder("t").retry(3, Backoff.fixed(Duration.ofSeconds(20)))
                .maxRetryDelay(Duration.ofSeconds(1)).build();
        Resp last = p.execute("GET", script(sent, new Resp(503, "3600")), RESPONSES);
        assertEquals(503, last.status, "a server asking for an hour gets no retry");
        assertEquals(1, sent.size());
        sent.clear();
        t0 = System.nanoTime();
        assertEquals(200, p.execute("GET", script(sent, new Resp(500, "3600")), RESPONSES).status);
        assertTrue(System.nanoTime() - t0 >= TimeUnit.SECONDS.toNanos(1), "Retry-After on a 500 is ignored: the capped backoff applies");
    }

    @Test
    void ioFailuresAndPerAttemptTimeoutsAreFailuresOtherExceptionsAreNot() throws Exception {
        assertTrue(HttpPolicy.isFailure(new IOException()));
        assertFalse(HttpPolicy.isFailure(new IllegalStateException()));
        List<Resp> sent = new ArrayList<>();
        assertEquals(200, retrying(2).execute("GET", script(sent, new IOException("reset")), RESPONSES).status);
        IllegalStateException bug = new IllegalStateException("a bug, not the network");
        assertSame(bug, assertThrows(IllegalStateException.class,
                () -> retrying(3).execute("GET", script(sent, bug), RESPONSES)));
    }

    @Test
    void theBreakerCountsFailingStatusesAndOtherPoliciesWrapTheBuiltOnes() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("b").countWindow(2).failureRateThreshold(100, 2).build();
        AtomicInteger outer = new AtomicInteger();
        Policy counting = new Policy() {
            @Override
            public String name() {
                return "counting";
            }

            @Override
            public <T> T execute(dev.resilience.core.Invoker<T> chain, int next, Callable<T> task) throws Exception {
                outer.incrementAndGet();
                return chain.invoke(next, task);
            }

            @Override
            public <T> java.util.concurrent.CompletionStage<T> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
                outer.incrementAndGet();
                return task.get();
            }
        };
        HttpPolicy p = HttpPolicy.builder("t").add(counting).circuitBreaker(breaker).build();
        List<Resp> sent = new ArrayList<>();
        p.execute("GET", script(sent, new Resp(503, null)), RESPONSES);
        p.execute("GET", script(sent, new Resp(502, null)), RESPONSES);
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertThrows(dev.resilience.core.CallNotPermittedException.class, () -> p.execute("GET", script(sent), RESPONSES));
        assertEquals(2, sent.size());
        assertEquals(3, outer.get());
    }

    @Test
    void theAsyncPathAlwaysCompletesEvenWhenTheAttemptThrowsOrReturnsNull() throws Exception {
        HttpPolicy p = retrying(2);
        CompletableFuture<Resp> nullStage = p.executeAsync("GET", () -> null, RESPONSES);
        ExecutionException e = assertThrows(ExecutionException.class, () -> nullStage.get(5, TimeUnit.SECONDS));
        assertInstanceOf(NullPointerException.class, e.getCause());
        CompletableFuture<Resp> throwing = p.executeAsync("GET", () -> {
            throw new IllegalStateException("supplier bug");
        }, RESPONSES);
        assertThrows(ExecutionException.class, () -> throwing.get(5, TimeUnit.SECONDS));
        Deque<Resp> q = new ArrayDeque<>(List.of(new Resp(503, null), new Resp(204, null)));
        Resp first = q.peek();
        Resp r = p.executeAsync("GET", () -> CompletableFuture.completedFuture(q.poll()), RESPONSES).get(5, TimeUnit.SECONDS);
        assertEquals(204, r.status);
        assertTrue(first.discarded);
    }

    @Test
    void aResponseThatATimeoutDropsLateIsDiscardedSyncAndAsync() throws Exception {
        HttpPolicy p = HttpPolicy.builder("t").timeout(Duration.ofMillis(50)).build();
        Resp late = new Resp(200, null);
        assertThrows(dev.resilience.core.TimeoutExceededException.class, () -> p.execute("GET", () -> {
            Thread.sleep(200); // ignores the context: its response arrives after the timeout
            return late;
        }, RESPONSES));
        assertTrue(late.discarded, "nobody will read it: its connection is freed");
        Resp lateAsync = new Resp(200, null);
        CompletableFuture<Resp> slow = new CompletableFuture<>();
        CompletableFuture<Resp> call = p.executeAsync("GET", () -> slow, RESPONSES);
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertInstanceOf(dev.resilience.core.TimeoutExceededException.class, e.getCause());
        slow.complete(lateAsync);
        assertTrue(lateAsync.discarded, "the late async response is discarded too");
    }

    @Test
    void aThrowingRetryListenerDoesNotBreakTheCall() throws Exception {
        HttpPolicy p = HttpPolicy.builder("t").retry(2, Backoff.fixed(Duration.ZERO)).retryListener(new RetryListener() {
            @Override
            public void onRetry(dev.resilience.core.Retry r, int attempt, long delayNanos, Throwable failure) {
                throw new IllegalStateException("listener bug");
            }
        }).build();
        List<Resp> sent = new ArrayList<>();
        assertEquals(200, p.execute("GET", script(sent, new Resp(503, null)), RESPONSES).status);
        assertTrue(sent.get(0).discarded, "our own discarding listener ran before the user's");
    }

    @Test
    void badInputFailsFastNamingTheParameter() {
        assertEquals("maxAttempts must be at least 1: 0",
                assertThrows(IllegalArgumentException.class, () -> HttpPolicy.builder("t").retry(0, Backoff.fixed(Duration.ZERO))).getMessage());
        assertEquals("attempt", assertThrows(NullPointerException.class, () -> HttpPolicy.none().execute("GET", null, RESPONSES)).getMessage());
        assertEquals("method", assertThrows(NullPointerException.class, () -> HttpPolicy.isIdempotent(null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HttpPolicy.builder("t").timeout(Duration.ZERO));
    }
}
