package dev.resilience.spring.cloud;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.core.Pipeline;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

/**
 * A stream run as one call through a pipeline (one without retry or hedge): each subscription is
 * a call of the pipeline's asynchronous path whose task subscribes to the source; the call's
 * outcome is the stream's end. Elements go to the subscriber as they come, with its demand.
 *
 * <ul>
 * <li>complete: a success; error: a failure (the pipeline's exception reaches the subscriber);</li>
 * <li>refused (an open breaker, a full bulkhead): the subscriber gets the refusal, the source is
 *     never subscribed to;</li>
 * <li>the call ends first (a timeout): the subscriber gets its exception and the source is
 *     cancelled;</li>
 * <li>the subscriber cancels: the source is cancelled and the call ends as a success if an element
 *     was delivered (the stream worked; {@code take(n)} cancels too), else without an outcome (a
 *     {@code CancellationException}: a breaker's permit and a bulkhead's slot come back uncounted).</li>
 * </ul>
 *
 * @param <T> the elements
 */
final class GuardedFlux<T> extends Flux<T> {

    private final Flux<T> source;
    private final Pipeline<Object> pipeline;

    GuardedFlux(Flux<T> source, Pipeline<Object> pipeline) {
        this.source = source;
        this.pipeline = pipeline;
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        CancelHandle call = Context.current().withCancel();
        StreamCall<T> stream = new StreamCall<>(Operators.serialize(actual), source, call);
        stream.actual.onSubscribe(stream);
        CompletionStage<Object> stage;
        try (Scope s = call.attach()) {
            stage = pipeline.callAsync(stream);
        } catch (RuntimeException | Error e) { // no policy throws from callAsync; a broken one still ends the stream
            stream.accept(null, e);
            return;
        }
        stage.whenComplete(stream);
    }

    /**
     * One subscription: the subscriber's subscription, the source's subscriber, the pipeline's task
     * (subscribing once) and the receiver of the pipeline's outcome.
     */
    static final class StreamCall<T> extends Operators.DeferredSubscription
            implements CoreSubscriber<T>, Supplier<CompletionStage<Object>>, BiConsumer<Object, Throwable> {

        @SuppressWarnings("rawtypes")
        private static final AtomicIntegerFieldUpdater<StreamCall> STARTED =
                AtomicIntegerFieldUpdater.newUpdater(StreamCall.class, "started");
        @SuppressWarnings("rawtypes")
        private static final AtomicIntegerFieldUpdater<StreamCall> OVER =
                AtomicIntegerFieldUpdater.newUpdater(StreamCall.class, "over");

        /** The subscriber, serialized: the source and the pipeline's outcome may signal from different threads. */
        final CoreSubscriber<T> actual;
        private final Flux<T> source;
        private final CancelHandle call;
        /** The attempt's outcome, as the policies see it. */
        private final CompletableFuture<Object> done = new CompletableFuture<>();
        /** 1 once the source was subscribed to. */
        private volatile int started;
        /** 1 once the subscriber cancelled or got the stream's end: it gets nothing more from here. */
        private volatile int over;
        private volatile boolean delivered;

        StreamCall(CoreSubscriber<T> actual, Flux<T> source, CancelHandle call) {
            this.actual = actual;
            this.source = source;
            this.call = call;
        }

        /** The pipeline's task: subscribes to the source, once. */
        @Override
        public CompletionStage<Object> get() {
            if (!STARTED.compareAndSet(this, 0, 1)) {
                return CompletableFuture.failedFuture(new IllegalStateException(
                        "a Flux is one call: a policy of the pipeline asked to subscribe to it a second time"));
            }
            try {
                source.subscribe(this);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
            return done;
        }

        @Override
        public void onSubscribe(Subscription s) {
            set(s);
        }

        @Override
        public void onNext(T t) {
            if (!delivered) {
                delivered = true;
            }
            actual.onNext(t);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }

        @Override
        public reactor.util.context.Context currentContext() {
            return actual.currentContext();
        }

        /** The subscriber cancels. */
        @Override
        public void cancel() {
            over = 1;
            super.cancel();
            if (delivered) {
                done.complete(null);
            } else {
                done.completeExceptionally(new CancellationException("the subscriber cancelled the stream"));
            }
            call.cancel();
        }

        /** The pipeline's outcome: the stream's end for the subscriber; then nothing may stay behind. */
        @Override
        public void accept(Object ignored, Throwable failure) {
            if (OVER.compareAndSet(this, 0, 1)) { // else cancelled: Reactor would log a late error as dropped
                if (failure == null) {
                    actual.onComplete();
                } else {
                    actual.onError(PipelineReactiveCircuitBreaker.unwrap(failure));
                }
            }
            super.cancel(); // the source, if the call ended before it (a timeout)
            if (!done.isDone()) {
                done.completeExceptionally(new CancellationException("the call ended before the stream"));
            }
            call.cancel();
        }
    }
}
