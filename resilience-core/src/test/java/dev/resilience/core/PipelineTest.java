package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void defaultOrderIsOutermostFirst() {
        Pipeline<String> p = Pipeline.<String>builder("p")
                .bulkhead(Bulkhead.builder("b").maxConcurrent(1).build())
                .timeout(timeout(100))
                .retry(retry(2))
                .fallback(Fallback.<String>always().toValue("x"))
                .circuitBreaker(CircuitBreaker.builder("cb").build())
                .rateLimiter(RateLimiter.builder("rl").rate(10).build())
                .build();
        assertEquals(List.of(Pipeline.Stage.FALLBACK, Pipeline.Stage.RETRY, Pipeline.Stage.CIRCUIT_BREAKER,
                Pipeline.Stage.RATE_LIMITER, Pipeline.Stage.TIMEOUT, Pipeline.Stage.BULKHEAD), p.stages());
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
        Pipeline<String> p = Pipeline.<String>builder("p").retry(retry(3)).ticker(ticker)
                .listener(new PipelineListener() {
                    @Override
                    public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
                        heard.add(pipeline.name() + " " + durationNanos / MS + " ms "
                                + (failure == null ? "ok" : failure.getMessage()));
                    }
                }).build();
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
    void retryOutsideTimeoutGivesEachAttemptTheFullTimeout() {
        Pipeline<String> p = Pipeline.<String>builder("p").retry(retry(3)).timeout(timeout(300)).build();
        AtomicInteger attempts = new AtomicInteger();
        IOException e = assertThrows(IOException.class, () -> p.call(() -> slowFailure(attempts)));
        assertEquals(3, attempts.get());
        assertEquals("slow failure 3", e.getMessage(), "the last failure, unchanged");
    }

    @Test
    void timeoutOutsideRetryBoundsAllAttemptsTogether() {
        Pipeline<String> p = Pipeline.<String>builder("p").retry(retry(3)).timeout(timeout(300))
                .order(Pipeline.Stage.TIMEOUT, Pipeline.Stage.RETRY).build();
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(TimeoutExceededException.class, () -> p.call(() -> slowFailure(attempts)));
        assertEquals(2, attempts.get(), "the second attempt ran past the 300 ms of the whole call");
    }

    @Test
    void everyAttemptSeesTheRemainingDeadline() throws Exception {
        Pipeline<Long> p = Pipeline.<Long>builder("p").retry(retry(3)).timeout(timeout(300)).build();
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
                .fallback(Fallback.<String>on(CallNotPermittedException.class).toValue("cached"))
                .retry(retry(3)).circuitBreaker(breaker).build();
        AtomicInteger calls = new AtomicInteger();
        assertEquals("cached", p.call(() -> "live " + calls.incrementAndGet()));
        assertEquals(0, calls.get());
    }

    @Test
    void ownExceptionsComeOutUnchanged() {
        Pipeline<String> p = Pipeline.<String>builder("p").retry(retry(2))
                .circuitBreaker(CircuitBreaker.builder("cb").build())
                .bulkhead(Bulkhead.builder("b").maxConcurrent(2).build()).build();
        IllegalStateException own = new IllegalStateException("own");
        assertSame(own, assertThrows(IllegalStateException.class, () -> p.call(() -> {
            throw own;
        })));
    }

    @Test
    void asyncPipeline() throws Exception {
        Pipeline<String> p = Pipeline.<String>builder("p")
                .fallback(Fallback.<String>on(IOException.class).toValue("fallback"))
                .retry(retry(3)).timeout(timeout(300)).bulkhead(Bulkhead.builder("b").maxConcurrent(5).build()).build();
        AtomicInteger attempts = new AtomicInteger();
        assertEquals("ok", p.callAsync(() -> attempts.incrementAndGet() < 3
                ? CompletableFuture.failedFuture(new IOException("flaky"))
                : CompletableFuture.completedFuture("ok")).toCompletableFuture().get());
        assertEquals("fallback", p.callAsync(() -> CompletableFuture.<String>failedFuture(new IOException("down")))
                .toCompletableFuture().get());
    }

    @Test
    void runThroughThePipeline() throws Exception {
        Pipeline<Void> p = Pipeline.<Void>builder("p").retry(retry(3)).build();
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
        Pipeline<String> p = Pipeline.<String>builder("p").retry(retry(1)).build();
        assertEquals("acme", p.call(Context.background().withValue(tenant, "acme"), tenant::get));
    }

    @Test
    void badArguments() {
        assertThrows(IllegalStateException.class, () -> Pipeline.<String>builder("p").retry(retry(1))
                .order(Pipeline.Stage.TIMEOUT).build());
        assertThrows(IllegalStateException.class, () -> Pipeline.<String>builder("p").retry(retry(1)).retry(retry(2)));
        assertEquals("retry", assertThrows(NullPointerException.class,
                () -> Pipeline.<String>builder("p").retry(null)).getMessage());
        assertTrue(Pipeline.DEFAULT_ORDER.get(0) == Pipeline.Stage.FALLBACK);
    }
}
