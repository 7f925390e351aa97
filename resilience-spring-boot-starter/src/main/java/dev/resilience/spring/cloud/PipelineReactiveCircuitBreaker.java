package dev.resilience.spring.cloud;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.spring.internal.GuardedStream;
import dev.resilience.spring.internal.ReactiveCalls;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreaker;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.util.context.ContextView;

/**
 * A Spring Cloud {@link ReactiveCircuitBreaker} that runs each subscription through a pipeline;
 * immutable, shared. See {@link ReactiveResilienceCircuitBreakerFactory} for the semantics.
 */
final class PipelineReactiveCircuitBreaker implements ReactiveCircuitBreaker {

    private static final System.Logger LOG = System.getLogger(ReactiveResilienceCircuitBreakerFactory.class.getName());

    private final Pipeline<Object> pipeline;
    /** The pipeline a stream runs through ({@link #pipeline} without a hedge); made on first use. */
    private volatile Pipeline<Object> streams;

    PipelineReactiveCircuitBreaker(Pipeline<Object> pipeline) {
        this.pipeline = pipeline;
    }

    /**
     * {@code pipeline} without what a stream cannot run through, or itself if it has none of it:
     * a hedge (two attempts at once would interleave their elements), a fallback policy (one value).
     * Logged at INFO when made, on first use (two subscriptions racing on first use may both log it).
     * A retry that is not a {@link dev.resilience.core.Retry} stays: {@code run(Flux)} refuses such a
     * pipeline on every call, whatever else was left out.
     */
    static Pipeline<Object> forStreams(Pipeline<Object> pipeline) {
        if (GuardedStream.problem(pipeline) == null) {
            return pipeline;
        }
        StringBuilder left = new StringBuilder();
        for (Policy p : pipeline.policies()) {
            if (p.kind() == Policy.Kind.HEDGE || p.kind() == Policy.Kind.FALLBACK) {
                left.append(left.length() == 0 ? "" : ", ").append(p.kind()).append(' ').append(p.name());
            }
        }
        if (left.length() > 0) { // else a retry of its own, which no stream can run: run(Flux) says so
            LOG.log(System.Logger.Level.INFO, () -> "a Flux runs through pipeline '" + pipeline.name() + "' without its " + left
                    + ": a stream's attempts run one at a time, retried before their first element only");
        }
        return pipeline.without(Policy.Kind.HEDGE, Policy.Kind.FALLBACK); // its listeners and ticker kept
    }

    /**
     * Per subscription: runs {@code toRun} through the pipeline's asynchronous path, one
     * subscription to {@code toRun} per attempt; a failure goes to {@code fallback}.
     *
     * @throws NullPointerException if {@code toRun} or {@code fallback} is null
     */
    @Override
    public <T> Mono<T> run(Mono<T> toRun, Function<Throwable, Mono<T>> fallback) {
        Objects.requireNonNull(toRun, "toRun");
        Objects.requireNonNull(fallback, "fallback");
        Mono<T> guarded = Mono.create(sink -> call(toRun, sink));
        return guarded.onErrorResume(failure -> Fallbacks.reactive(fallback, failure, Mono::error));
    }

    private <T> void call(Mono<T> toRun, MonoSink<T> sink) {
        // A context per subscription: cancelling the subscription cancels it, which stops a retry's
        // backoff and a limiter's wait and cancels the attempt in flight (its permits come back).
        // Its parent: the request's context that the WebFlux deadline filter put in the subscriber's
        // Reactor context, else the thread's.
        Context parent = ReactiveCalls.current(sink.contextView());
        CancelHandle call = parent.withCancel();
        try {
            start(toRun, sink, parent, call);
        } catch (Throwable e) { // no policy throws from callAsync; a broken one must not leak the context
            call.cancel();
            throw e;
        }
    }

    private <T> void start(Mono<T> toRun, MonoSink<T> sink, Context parent, CancelHandle call) {
        // Whichever comes first, the outcome or the cancel: a cancelled subscriber gets no signal
        // (Reactor would log a late error as dropped).
        AtomicBoolean over = new AtomicBoolean();
        sink.onCancel(() -> {
            if (over.compareAndSet(false, true)) {
                call.cancel();
            }
        });
        ContextView view = sink.contextView();
        Mono<Object> source = toRun.map(v -> (Object) v); // once per call, not per attempt
        CompletionStage<Object> stage;
        try (Scope s = call.attach()) {
            // each attempt under its own context (a timeout narrows it), cancelled when it ends, is
            // ended from outside (a timeout), or the whole call's context ends (the subscriber left)
            stage = pipeline.callAsync(() -> ReactiveCalls.attempt(source, view, null));
        }
        stage.whenComplete((value, failure) -> {
            if (over.compareAndSet(false, true)) {
                if (failure != null) {
                    sink.error(ReactiveCalls.failure(failure, parent)); // a cancelled request's context: its error and cause
                } else if (value == null) {
                    sink.success();
                } else {
                    @SuppressWarnings("unchecked") // the pipeline completes with what toRun emitted
                    T t = (T) value;
                    sink.success(t);
                }
            }
            call.cancel(); // an attempt that outlived a timeout, and the context's registrations
        });
    }

    /**
     * Per subscription: the whole stream is one call through the pipeline (without a hedge or a
     * fallback policy), retried only before its first element; elements flow as they come; see
     * {@link ReactiveResilienceCircuitBreakerFactory}.
     *
     * @throws NullPointerException if {@code toRun} or {@code fallback} is null
     * @throws IllegalArgumentException if the pipeline has a retry policy that is not a
     *     {@link dev.resilience.core.Retry} (it could not be kept from repeating delivered elements)
     */
    @Override
    public <T> Flux<T> run(Flux<T> toRun, Function<Throwable, Flux<T>> fallback) {
        Objects.requireNonNull(toRun, "toRun");
        Objects.requireNonNull(fallback, "fallback");
        Pipeline<Object> p = streams;
        if (p == null) {
            streams = p = forStreams(pipeline); // a race builds it twice: the same policies either way
        }
        Flux<T> guarded = GuardedStream.of(p, toRun);
        return guarded.onErrorResume(failure -> Fallbacks.reactive(fallback, failure, Flux::error));
    }

    /** The cause of a {@link CompletionException}, else {@code e}. */
    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    @Override
    public String toString() {
        return "PipelineReactiveCircuitBreaker[" + pipeline + "]";
    }
}
