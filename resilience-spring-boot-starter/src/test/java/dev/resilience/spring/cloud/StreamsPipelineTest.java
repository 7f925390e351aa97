package dev.resilience.spring.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.resilience.context.ManualTicker;
import dev.resilience.core.Backoff;
import dev.resilience.core.Hedge;
import dev.resilience.core.Pipeline;
import dev.resilience.core.PipelineListener;
import dev.resilience.core.Retry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** A Flux through Spring Cloud's reactive breaker runs a pipeline without its hedge, still observed. */
class StreamsPipelineTest {

    private static final long MS = 1_000_000L;

    @Test
    void aStreamRunsWithoutTheHedgeButWithThePipelinesListenersAndTicker() {
        ManualTicker ticker = new ManualTicker();
        List<String> heard = new CopyOnWriteArrayList<>();
        Retry retry = Retry.builder("retry").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build();
        Hedge hedge = Hedge.builder("hedge").delay(Duration.ofMillis(5)).build();
        Pipeline<Object> pipeline = Pipeline.builder("payments").add(retry).add(hedge).ticker(ticker)
                .listener(new PipelineListener() {
                    @Override
                    public void onCall(Pipeline<?> p, long durationNanos, Throwable failure) {
                        heard.add("built " + durationNanos / MS + " ms " + (failure == null ? "ok" : failure.getMessage()));
                    }
                }).build();
        PipelineReactiveCircuitBreaker breaker = new PipelineReactiveCircuitBreaker(pipeline);
        pipeline.addListener(new PipelineListener() {
            @Override
            public void onCall(Pipeline<?> p, long durationNanos, Throwable failure) {
                heard.add("added " + (failure == null ? "ok" : failure.getMessage()));
            }
        });

        Pipeline<Object> streams = PipelineReactiveCircuitBreaker.forStreams(pipeline);
        assertEquals(List.of(retry), streams.policies(), "the hedge left out");

        AtomicInteger subscriptions = new AtomicInteger();
        Flux<String> source = Flux.defer(() -> {
            ticker.advance(40 * MS);
            return subscriptions.incrementAndGet() < 2 ? Flux.error(new IllegalStateException("no element yet"))
                    : Flux.just("a", "b");
        });
        assertEquals(List.of("a", "b"), breaker.run(source, t -> Flux.just("fallback")).collectList().block(Duration.ofSeconds(10)));
        assertEquals(2, subscriptions.get(), "retried before the first element");
        assertEquals(List.of("built 80 ms ok", "added ok"), heard,
                "one call, heard by the listener given to the builder and the one added later, on the pipeline's ticker");

        heard.clear();
        pipeline.addListener(new PipelineListener() {
            @Override
            public void onCall(Pipeline<?> p, long durationNanos, Throwable failure) {
                heard.add("added after the first stream");
            }
        });
        assertEquals(List.of("a", "b"), breaker.run(source, t -> Flux.just("fallback")).collectList().block(Duration.ofSeconds(10)));
        assertEquals(List.of("built 40 ms ok", "added ok", "added after the first stream"), heard,
                "a listener added after the stream's pipeline was made hears the next stream");
        Pipeline<Object> plain = Pipeline.builder("plain").add(retry).build();
        assertSame(plain, PipelineReactiveCircuitBreaker.forStreams(plain), "a pipeline a stream can run through is used as it is");
    }
}
