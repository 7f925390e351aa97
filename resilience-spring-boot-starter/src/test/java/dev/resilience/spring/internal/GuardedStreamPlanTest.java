package dev.resilience.spring.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.Backoff;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Fallback;
import dev.resilience.core.Hedge;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Retry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * How a stream runs through a pipeline: what is refused (a hedge, a fallback policy), and the
 * policies outside the retry (and the pipeline's listeners) seeing one call while those inside see
 * each attempt.
 */
class GuardedStreamPlanTest {

    private static Retry retry(String name) {
        return Retry.builder(name).maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build();
    }

    @Test
    void aHedgeOrAFallbackPolicyIsRefusedNamingWhy() {
        Pipeline<Object> hedged = Pipeline.builder("hedged").add(retry("r")).add(Hedge.builder("h").delay(Duration.ofMillis(5)).build()).build();
        String why = GuardedStream.problem(hedged);
        assertTrue(why.contains("pipeline 'hedged' hedges (h)") && why.contains("interleave"), why);
        assertEquals(why, assertThrows(IllegalArgumentException.class, () -> GuardedStream.of(hedged, Flux.just(1))).getMessage());
        assertThrows(IllegalStateException.class, () -> hedged.callAsync(() -> null, () -> true), "the pipeline refuses it too");

        Pipeline<Object> withFallback = Pipeline.builder("fb").add(Fallback.always().toValue((Object) "x")).add(retry("r")).build();
        assertTrue(GuardedStream.problem(withFallback).contains("has a fallback policy"), GuardedStream.problem(withFallback));

        assertNull(GuardedStream.problem(Pipeline.builder("twice").add(retry("a")).add(retry("b")).build()),
                "two retries both ask before retrying");

        assertNull(GuardedStream.problem(Pipeline.builder("ok").add(retry("r")).build()));

        dev.resilience.core.Policy ownRetry = new dev.resilience.core.Policy() {
            @Override
            public String name() {
                return "mine";
            }

            @Override
            public Kind kind() {
                return Kind.RETRY;
            }

            @Override
            public <R> R execute(dev.resilience.core.Invoker<R> chain, int next, java.util.concurrent.Callable<R> task) throws Exception {
                return chain.invoke(next, task);
            }

            @Override
            public <R> java.util.concurrent.CompletionStage<R> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<R>> task) {
                return task.get();
            }
        };
        String own = GuardedStream.problem(Pipeline.builder("own").add(ownRetry).build());
        assertTrue(own != null && own.contains("a retry of its own (mine)"), own);
    }

    @Test
    void anOnNextThatThrowsDoesNotKeepTheStreamsEndWaiting() {
        java.util.List<String> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
        reactor.core.CoreSubscriber<Object> throwing = new reactor.core.CoreSubscriber<>() {
            @Override
            public void onSubscribe(org.reactivestreams.Subscription s) {
            }

            @Override
            public void onNext(Object o) {
                signals.add("next " + o);
                throw new IllegalStateException("a subscriber that breaks the rules");
            }

            @Override
            public void onError(Throwable t) {
                signals.add("error " + t.getMessage());
            }

            @Override
            public void onComplete() {
                signals.add("complete");
            }
        };
        GuardedStream.Call call = new GuardedStream.Call(throwing, () -> null, dev.resilience.context.Context.background(),
                dev.resilience.context.Context.background().withCancel());
        call.open(new GuardedStream.Attempt(call, 1, dev.resilience.context.Context.background()));
        assertThrows(IllegalStateException.class, () -> call.next("a"));
        call.end(null, new IllegalStateException("the source failed"));
        assertEquals(List.of("next a", "error the source failed"), signals);
    }

    @Test
    void policiesOutsideTheRetrySeeTheStreamOnceAndThoseInsideSeeEachAttempt() {
        CircuitBreaker outside = CircuitBreaker.builder("outside").consecutiveFailures(100).build();
        CircuitBreaker inside = CircuitBreaker.builder("inside").consecutiveFailures(100).build();
        Bulkhead bulkhead = Bulkhead.builder("b").maxConcurrent(1).build();
        AtomicInteger pipelineCalls = new AtomicInteger();
        Pipeline<Object> pipeline = Pipeline.builder("p").add(outside).add(retry("r")).add(inside).add(bulkhead)
                .listener(new dev.resilience.core.PipelineListener() {
                    @Override
                    public void onCall(Pipeline<?> p, long durationNanos, Throwable error) {
                        pipelineCalls.incrementAndGet();
                    }
                }).build();
        AtomicInteger subscriptions = new AtomicInteger();
        Flux<Integer> source = Flux.defer(() -> subscriptions.incrementAndGet() < 3
                ? Flux.error(new IllegalStateException("before the first element")) : Flux.just(1, 2));

        assertEquals(List.of(1, 2), GuardedStream.of(pipeline, source).collectList().block(Duration.ofSeconds(10)));
        assertEquals(1, pipelineCalls.get(), "the pipeline's own listeners hear the stream as one call");
        assertEquals(3, subscriptions.get());
        assertEquals(1, outside.counts().requests(), "one call: " + outside.counts());
        assertEquals(1, outside.counts().totalSuccesses());
        assertEquals(3, inside.counts().requests(), "three attempts: " + inside.counts());
        assertEquals(2, inside.counts().totalFailures());
        assertEquals(0, bulkhead.inUse());
    }
}
