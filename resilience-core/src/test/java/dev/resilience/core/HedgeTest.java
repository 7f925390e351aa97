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
import org.junit.jupiter.api.Test;

/** Hedges start after the delay, the first success wins, losers are cancelled. */
class HedgeTest {

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker();
    private final List<CompletableFuture<String>> attempts = new ArrayList<>();
    private final List<Context> contexts = new ArrayList<>();

    private CompletableFuture<String> attempt() {
        CompletableFuture<String> f = new CompletableFuture<>();
        attempts.add(f);
        contexts.add(Context.current());
        return f;
    }

    @Test
    void secondAttemptAfterTheDelayWinsAndTheFirstIsCancelled() throws Exception {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).ticker(ticker).build();
        CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
        assertEquals(1, attempts.size());
        ticker.advance(99 * MS);
        assertEquals(1, attempts.size());
        ticker.advance(MS);
        assertEquals(2, attempts.size(), "the hedge starts at 100 ms");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(2, attempts.size(), "at most one hedge by default");
        attempts.get(1).complete("second");
        assertEquals("second", r.get());
        assertTrue(contexts.get(0).isDone(), "the loser's context is cancelled");
        attempts.get(0).complete("first, late");
        assertEquals("second", r.get());
    }

    @Test
    void theListenerHearsEachLaunchedHedge() {
        List<Integer> hedges = new ArrayList<>();
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).maxHedges(2).ticker(ticker)
                .listener(new HedgeListener() {
                    @Override
                    public void onHedge(Hedge h, int attempt) {
                        hedges.add(attempt);
                    }
                }).build();
        hedge.callAsync(this::attempt);
        assertEquals(List.of(), hedges, "the first attempt is not a hedge");
        ticker.advance(100 * MS);
        ticker.advance(100 * MS);
        assertEquals(List.of(2, 3), hedges);
        attempts.forEach(a -> a.complete("done"));
    }

    @Test
    void aZeroDelayStartsTheMostHedgesAtOnceWithoutOverflowingTheStack() throws Exception {
        Hedge hedge = Hedge.builder("h").delay(Duration.ZERO).maxHedges(Hedge.Builder.MAX_HEDGES).ticker(ticker)
                .build();
        CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
        assertEquals(Hedge.Builder.MAX_HEDGES + 1, attempts.size(), "every attempt started at once");
        attempts.get(Hedge.Builder.MAX_HEDGES).complete("last");
        assertEquals("last", r.get());
        assertTrue(contexts.get(0).isDone(), "the others are cancelled");
    }

    @Test
    void fastFirstAttemptStartsNoHedge() throws Exception {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).ticker(ticker).build();
        CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
        attempts.get(0).complete("fast");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(1, attempts.size());
        assertEquals("fast", r.get());
    }

    @Test
    void upToMaxHedgesAndFailureWhenAllFail() {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).maxHedges(2).ticker(ticker).build();
        CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
        ticker.advance(100 * MS);
        ticker.advance(100 * MS);
        assertEquals(3, attempts.size());
        attempts.get(0).completeExceptionally(new IOException("a"));
        attempts.get(2).completeExceptionally(new IOException("c"));
        assertFalse(r.isDone(), "one attempt is still running");
        attempts.get(1).completeExceptionally(new IOException("b"));
        ExecutionException e = assertThrows(ExecutionException.class, r::get);
        assertEquals("b", e.getCause().getMessage());
    }

    @Test
    void whenTheLastAttemptWasRefusedTheCallFailsWithTheFirstAnswer() {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).maxHedges(2).ticker(ticker).build();
        RequestNotPermittedException refused = new RequestNotPermittedException("inside",
                RequestNotPermittedException.Reason.LIMIT_EXCEEDED, "full");
        CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
        ticker.advance(100 * MS);
        assertEquals(2, attempts.size());
        attempts.get(0).completeExceptionally(new IOException("first answer"));
        assertFalse(r.isDone(), "the hedge is still running");
        attempts.get(1).completeExceptionally(refused);
        ExecutionException e = assertThrows(ExecutionException.class, r::get);
        assertEquals("first answer", e.getCause().getMessage(), "the refusal came last: the dependency's answer instead");

        CompletableFuture<String> s = hedge.callAsync(this::attempt).toCompletableFuture();
        ticker.advance(100 * MS);
        ticker.advance(100 * MS);
        assertEquals(5, attempts.size());
        attempts.get(3).completeExceptionally(refused);
        attempts.get(2).completeExceptionally(new IOException("a"));
        attempts.get(4).completeExceptionally(new IOException("c"));
        assertEquals("c", assertThrows(ExecutionException.class, s::get).getCause().getMessage(),
                "a last failure that is an answer stays the outcome");

        CompletableFuture<String> t = hedge.callAsync(this::attempt).toCompletableFuture();
        ticker.advance(100 * MS);
        attempts.get(5).completeExceptionally(refused);
        attempts.get(6).completeExceptionally(refused);
        assertEquals(refused, assertThrows(ExecutionException.class, t::get).getCause(), "nothing but refusals: a refusal");
    }

    @Test
    void failureBeforeTheDelayFailsWithoutHedging() {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).ticker(ticker).build();
        CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
        attempts.get(0).completeExceptionally(new IOException("down"));
        assertTrue(r.isCompletedExceptionally());
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(1, attempts.size(), "hedging is not retrying");
    }

    @Test
    void percentileDelayFollowsObservedLatency() {
        Hedge hedge = Hedge.builder("h").percentileDelay(0.9, Duration.ofMillis(500)).ticker(ticker).build();
        assertEquals(500 * MS, hedge.delayNanos(), "initial until enough samples");
        for (int i = 1; i <= 100; i++) {
            int first = attempts.size();
            CompletableFuture<String> r = hedge.callAsync(this::attempt).toCompletableFuture();
            ticker.advance(i * MS);
            attempts.get(first).complete("ok");
            assertTrue(r.isDone());
        }
        assertEquals(90 * MS, hedge.delayNanos(), "the 90th percentile of 1..100 ms");
    }

    @Test
    void callerCancellationEndsEveryAttempt() {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(100)).ticker(ticker).build();
        CancelHandle h = Context.background().withCancel();
        CompletableFuture<String> r;
        try (Scope s = h.attach()) {
            r = hedge.callAsync(this::attempt).toCompletableFuture();
        }
        ticker.advance(100 * MS);
        h.cancel();
        assertInstanceOf(ContextCancelledException.class, assertThrows(ExecutionException.class, r::get).getCause());
        assertTrue(contexts.stream().allMatch(Context::isDone));
    }

    @Test
    void syncCallRunsAttemptsOnTheExecutor() throws Exception {
        Hedge hedge = Hedge.builder("h").delay(Duration.ofSeconds(10)).build();
        assertEquals("ok", hedge.call(() -> "ok"));
        IOException own = new IOException("own");
        assertEquals(own, assertThrows(IOException.class, () -> hedge.call(() -> {
            throw own;
        })));
        AssertionError error = new AssertionError("an Error");
        assertSame(error, assertThrows(AssertionError.class, () -> hedge.call(() -> {
            throw error;
        })));
        // neither an Exception nor an Error, thrown past the signature (Kotlin, a sneaky throw):
        // it comes out as it was, as from a Retry, not as a ClassCastException
        Throwable odd = new Throwable("neither");
        Throwable seen = assertThrows(Throwable.class, () -> hedge.call(() -> {
            throw dev.resilience.context.internal.Suppression.rethrow(odd);
        }));
        assertSame(odd, seen);
    }

    @Test
    void badArguments() {
        assertThrows(IllegalStateException.class, () -> Hedge.builder("h").build());
        assertThrows(IllegalArgumentException.class, () -> Hedge.builder("h").percentileDelay(1.0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Hedge.builder("h").maxHedges(0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Hedge.builder("h").maxHedges(100_000))
                .getMessage().contains("maxHedges"));
    }
}
