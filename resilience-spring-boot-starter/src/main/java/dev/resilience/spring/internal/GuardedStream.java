package dev.resilience.spring.internal;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.observability.ResilienceContextAccessor;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInvocation;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

/**
 * The annotations' {@code Flux} path; loaded only when Reactor is on the class path. Each
 * subscription is one call of the guard's pipeline; an attempt calls the method and subscribes
 * to the {@code Flux} it returns; the call's outcome is the stream's end.
 *
 * <ul>
 * <li><b>Elements</b> go to the subscriber as they come, with its demand.</li>
 * <li><b>Retry</b> resubscribes (calls the method again) only while no element has reached the
 *     subscriber: once one has, the call is <i>committed</i> and a later failure ends the stream
 *     with that failure, not retried, so no element is delivered twice
 *     ({@link Pipeline#callAsync(Supplier, BooleanSupplier)}). A retried attempt's demand passes to the
 *     next one; an element an ended attempt emits late is discarded.</li>
 * <li><b>Timeout, bulkhead, breaker, limiters</b> see an attempt as one call, from subscription to
 *     the stream's end (the policies outside the retry see the whole call): a timeout bounds the
 *     stream, a bulkhead holds its slot while it flows, so a long-lived stream holds its permits.</li>
 * <li><b>The subscriber cancels</b> (also {@code take(n)}): the attempt's source is cancelled; the
 *     call ends as a success if an element was delivered, else without an outcome (its permits come
 *     back uncounted) and without a retry.</li>
 * <li>A hedge would interleave two attempts' elements, so a pipeline with one is refused at
 *     startup for a {@code Flux} method ({@link #problem}).</li>
 * </ul>
 */
public final class GuardedStream extends Flux<Object> {

    private final Pipeline<Object> pipeline;
    /** One attempt's source: a {@code Publisher}, or null (the call then fails as "no stage"); may throw. */
    private final Callable<Object> source;

    private GuardedStream(Pipeline<Object> pipeline, Callable<Object> source) {
        this.pipeline = pipeline;
        this.source = source;
    }

    /**
     * {@code source} guarded by {@code pipeline}, each attempt subscribing to it again (for the
     * Spring Cloud factory).
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@link #problem} refuses {@code pipeline}
     */
    @SuppressWarnings("unchecked") // the elements pass through unchanged
    public static <T> Flux<T> of(Pipeline<Object> pipeline, Flux<T> source) {
        Objects.requireNonNull(source, "source");
        String problem = problem(pipeline);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return (Flux<T>) (Flux<?>) Flux.onAssembly(new GuardedStream(pipeline, () -> source));
    }

    /** The guarded {@code Flux} of one invocation, with the guard's fallback if it has one. */
    static Object flux(Guard guard, MethodInvocation invocation) {
        Flux<Object> guarded = Flux.onAssembly(new GuardedStream(guard.pipeline, () -> GuardInterceptor.attempt(invocation)));
        if (guard.fallbacks.isEmpty()) {
            return guarded;
        }
        return guarded.onErrorResume(Exception.class::isInstance, thrown -> {
            try {
                @SuppressWarnings("unchecked") // checked at startup: the fallback returns a Flux
                Publisher<Object> p = (Publisher<Object>) Guard.reactiveFallback(guard, invocation.getThis(),
                        invocation.getArguments(), thrown, "Flux");
                return p;
            } catch (Throwable failure) {
                Exceptions.throwIfJvmFatal(failure); // as Reactor's own onErrorResume does
                return Flux.error(failure);
            }
        });
    }

    /**
     * Why {@code pipeline} cannot guard a stream, or null if it can: a hedge (two attempts at once
     * would interleave their elements) or a fallback policy (it answers one value, which would end
     * the stream as if it had completed).
     *
     * @throws NullPointerException if {@code pipeline} is null
     */
    public static String problem(Pipeline<Object> pipeline) {
        for (Policy p : pipeline.policies()) {
            if (p.kind() == Policy.Kind.HEDGE) {
                return "returns Flux, and pipeline '" + pipeline.name() + "' hedges (" + p.name() + "): two attempts at once"
                        + " would interleave their elements; guard it with a pipeline without a hedge";
            } else if (p.kind() == Policy.Kind.RETRY && !(p instanceof dev.resilience.core.Retry)) {
                return "returns Flux, and pipeline '" + pipeline.name() + "' has a retry of its own (" + p.name()
                        + "), which cannot be kept from repeating elements already delivered";
            } else if (p.kind() == Policy.Kind.FALLBACK) {
                return "returns Flux, and pipeline '" + pipeline.name() + "' has a fallback policy, which answers one value:"
                        + " use the annotation's fallbackMethod returning a Flux";
            }
        }
        return null;
    }

    @Override
    public void subscribe(CoreSubscriber<? super Object> actual) {
        Context parent = ReactiveCalls.current(actual.currentContext());
        CancelHandle handle = parent.withCancel();
        CoreSubscriber<Object> subscriber = actual;
        Call call = new Call(subscriber, source, parent, handle);
        try {
            subscriber.onSubscribe(call);
        } catch (Throwable e) { // a broken subscriber: nothing may stay registered
            handle.cancel();
            throw e;
        }
        if (call.over != 0) {
            return; // cancelled at once (take(0)): no call at all
        }
        CompletionStage<Object> stage;
        try (Scope s = handle.attach()) {
            stage = pipeline.callAsync(call, call);
        } catch (Throwable e) { // no policy throws from callAsync; a broken one still ends the stream
            call.end(null, e);
            return;
        }
        stage.whenComplete(call::end);
    }

    /**
     * One subscription: the subscriber's subscription (its demand passes to the attempt that
     * runs), the pipeline's task (one attempt per call), and the retry's question whether the call
     * may run again, which is also the gate that lets one attempt only deliver.
     */
    static final class Call implements Subscription, Supplier<CompletionStage<Object>>, BooleanSupplier {

        private static final long COMMITTED = 1L << 62;
        private static final AtomicLongFieldUpdater<Call> GATE = AtomicLongFieldUpdater.newUpdater(Call.class, "gate");
        private static final AtomicIntegerFieldUpdater<Call> OVER = AtomicIntegerFieldUpdater.newUpdater(Call.class, "over");
        private static final AtomicIntegerFieldUpdater<Call> WIP = AtomicIntegerFieldUpdater.newUpdater(Call.class, "wip");
        private static final AtomicLongFieldUpdater<Call> MISSED = AtomicLongFieldUpdater.newUpdater(Call.class, "missedRequested");
        private static final AtomicIntegerFieldUpdater<Call> EMITTING = AtomicIntegerFieldUpdater.newUpdater(Call.class, "emitting");
        /** The stream's end when it is a completion (else the failure). */
        private static final Object COMPLETE = new Object();

        final CoreSubscriber<Object> actual;
        private final Callable<Object> source;
        private final Context parent;
        private final CancelHandle handle;
        /**
         * Which attempt may deliver: 0 none (between attempts), {@code k} attempt k before its first
         * element, {@code COMMITTED | k} attempt k after it (no retry any more).
         */
        private volatile long gate;
        /** 1 once the subscriber cancelled or got the stream's end. */
        private volatile int over;
        /** The attempt started last; its source gets the demand. */
        private volatile Attempt attempt;
        private long attempts; // written by one attempt's start at a time, each after the previous ended
        private volatile int wip;
        private volatile long missedRequested;
        /** Drain-owned: the attempt the demand went to, and the subscriber's demand so far. */
        private Attempt served;
        private long requested;
        /**
         * Serializes the committed attempt's elements with the stream's end, the one signal that may
         * come from another thread (a timeout, the pipeline's outcome): the elements being delivered
         * (more than one when a source emits again from inside the subscriber's request), plus
         * {@code END} once the end arrived; the end is delivered by whoever leaves it alone.
         */
        private volatile int emitting;
        private static final int END = 1 << 30;
        private volatile Object terminal;

        Call(CoreSubscriber<Object> actual, Callable<Object> source, Context parent, CancelHandle handle) {
            this.actual = actual;
            this.source = source;
            this.parent = parent;
            this.handle = handle;
        }

        /** One attempt: calls the method and subscribes to its {@code Flux}, under the attempt's context. */
        @Override
        public CompletionStage<Object> get() {
            if (over != 0) {
                return CompletableFuture.failedFuture(new CancellationException("the subscriber left"));
            }
            Context context = Context.current();
            if (context.isDone()) {
                return CompletableFuture.failedFuture(ReactiveCalls.doneError(context)); // the method is not called for nobody
            }
            Object publisher;
            try {
                publisher = source.call();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt(); // the thread stays interrupted, as on the blocking path
                }
                return CompletableFuture.failedFuture(e);
            }
            if (publisher == null) {
                return null; // the pipeline fails the call as "no stage": not counted, not retried
            }
            Attempt a = new Attempt(this, ++attempts, context);
            open(a);
            Registration onEnd = context.onDone(() -> {
                ContextDoneException done = ReactiveCalls.doneError(context);
                if (done instanceof ContextCancelledException) {
                    a.cancel(false); // the caller left: no outcome for the policies inside
                } else {
                    a.completeExceptionally(done);
                }
            }, Runnable::run);
            a.whenComplete((v, e) -> onEnd.remove());
            try {
                @SuppressWarnings("unchecked") // the method's Flux (checked at startup), or the factory's
                Publisher<Object> p = (Publisher<Object>) publisher;
                Flux.from(p).subscribe(a);
            } catch (Throwable e) { // a broken source that throws on subscribe
                a.completeExceptionally(e);
            }
            return a;
        }

        /** Makes {@code a} the attempt that gets the demand and may deliver; before its source is subscribed to. */
        void open(Attempt a) {
            attempt = a;
            gate = a.k;
        }

        /**
         * The retry asks whether the call may run again: yes while no element was delivered and
         * the subscriber is there; yes closes the gate on the attempt that ended, so a late
         * element of it is discarded.
         */
        @Override
        public boolean getAsBoolean() {
            for (;;) {
                long g = gate;
                if ((g & COMMITTED) != 0 || over != 0) {
                    return false;
                }
                if (GATE.compareAndSet(this, g, 0L)) {
                    return true;
                }
            }
        }

        /** Whether attempt {@code k} may deliver an element now; commits the call on its first. */
        boolean mayDeliver(long k) {
            long g = gate;
            return g == (COMMITTED | k) || g == k && GATE.compareAndSet(this, k, COMMITTED | k);
        }

        /** The attempt whose source subscribed, or a new demand: passes the demand on. */
        void drain() {
            if (WIP.getAndIncrement(this) != 0) {
                return;
            }
            int missed = 1;
            for (;;) {
                long r = MISSED.getAndSet(this, 0L);
                if (r > 0) {
                    requested = Operators.addCap(requested, r);
                }
                Attempt a = attempt;
                Subscription s = a == null ? null : a.upstream;
                if (s != null && a != served) {
                    // A new attempt: the ones before it delivered nothing, so it owes all the demand.
                    served = a;
                    if (requested > 0) {
                        s.request(requested);
                    }
                } else if (s != null && r > 0) {
                    s.request(r);
                }
                missed = WIP.addAndGet(this, -missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                Operators.addCap(MISSED, this, n);
                drain();
            }
        }

        /**
         * The subscriber cancels: a committed call ends as a success (the stream worked), else
         * without an outcome; no retry follows either way.
         */
        @Override
        public void cancel() {
            if (!OVER.compareAndSet(this, 0, 1)) {
                return;
            }
            long g;
            do { // close the gate, so an element racing this cancel is either delivered (a success) or not
                g = gate;
            } while ((g & COMMITTED) == 0 && !GATE.compareAndSet(this, g, 0L));
            Attempt a = attempt;
            if (a != null && (g & COMMITTED) != 0) {
                a.complete(null);
            }
            handle.cancel(); // stops a retry's backoff and a limiter's wait; the attempt's context ends
            if (a != null) {
                a.cancel(false);
            }
        }

        /** An element of the committed attempt; dropped if the stream's end is being delivered. */
        void next(Object t) {
            for (;;) {
                int e = emitting;
                if ((e & END) != 0) {
                    Operators.onDiscard(t, actual.currentContext()); // the end is under way: nothing after it
                    return;
                }
                if (EMITTING.compareAndSet(this, e, e + 1)) {
                    break;
                }
            }
            try {
                actual.onNext(t);
            } finally { // an onNext that throws must not keep the end waiting
                if (EMITTING.decrementAndGet(this) == END) {
                    signalEnd(); // the end arrived meanwhile: delivered after the element, here
                }
            }
        }

        private void signalEnd() {
            Object t = terminal;
            if (t == COMPLETE) {
                actual.onComplete();
            } else {
                actual.onError((Throwable) t);
            }
        }

        /** The pipeline's outcome: the stream's end for the subscriber; then nothing may stay behind. */
        void end(Object ignored, Throwable failure) {
            // First "over", so no retry starts another attempt for a call that has ended; else cancelled,
            // and Reactor would log a late error as dropped.
            boolean signal = OVER.compareAndSet(this, 0, 1);
            Attempt a = attempt;
            if (a != null) {
                a.cancel(false); // the source, if the call ended before it (a timeout outside the retry)
            }
            if (signal) {
                terminal = failure == null ? COMPLETE : ReactiveCalls.failure(failure, parent);
                if (EMITTING.getAndAdd(this, END) == 0) {
                    signalEnd(); // else the element being delivered delivers it after itself
                }
            }
            handle.cancel();
        }
    }

    /**
     * One attempt: the source's subscriber, and the stage the policies see. However the stage ends
     * (the source, the attempt's context, a timeout failing it from outside), its outcome is claimed
     * first, so an element the source emits later is discarded, and the source is cancelled.
     */
    static final class Attempt extends CompletableFuture<Object> implements CoreSubscriber<Object> {

        private static final AtomicReferenceFieldUpdater<Attempt, Subscription> UPSTREAM =
                AtomicReferenceFieldUpdater.newUpdater(Attempt.class, Subscription.class, "upstream");

        private final Call call;
        private final long k;
        private final reactor.util.context.Context reactorContext;
        private static final AtomicIntegerFieldUpdater<Attempt> CLAIMED = AtomicIntegerFieldUpdater.newUpdater(Attempt.class, "claimed");

        /** The source's subscription; once the attempt ended, Reactor's cancelled marker (cancelled once). */
        volatile Subscription upstream;
        /** 1 once an outcome is being given: the first one stands (a source's signal while its cancel runs does not). */
        private volatile int claimed;

        Attempt(Call call, long k, Context context) {
            this.call = call;
            this.k = k;
            this.reactorContext = reactor.util.context.Context.of(call.actual.currentContext())
                    .put(ResilienceContextAccessor.KEY, context);
        }

        @Override
        public reactor.util.context.Context currentContext() {
            return reactorContext;
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.setOnce(UPSTREAM, this, s)) { // else ended already: s is cancelled
                call.drain();
            }
        }

        @Override
        public void onNext(Object t) {
            if (claimed == 0 && call.mayDeliver(k)) { // an attempt with an outcome delivers nothing more
                call.next(t);
            } else {
                Operators.onDiscard(t, reactorContext);
            }
        }

        @Override
        public void onError(Throwable t) {
            UPSTREAM.lazySet(this, Operators.cancelledSubscription()); // the source ended: nothing to cancel
            completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            UPSTREAM.lazySet(this, Operators.cancelledSubscription());
            complete(null);
        }

        /** Whether this outcome is the attempt's: the first one stands (a source's signal while its cancel runs does not). */
        private boolean claim() {
            return CLAIMED.compareAndSet(this, 0, 1);
        }

        /**
         * Cancels the source once, if it has not ended. A cancel that throws is reported as dropped;
         * a fatal error is returned, to be rethrown once the attempt is complete (nothing may stay
         * open behind it).
         */
        private Throwable cancelSource() {
            try {
                Operators.terminate(UPSTREAM, this);
                return null;
            } catch (Throwable t) {
                if (Exceptions.isJvmFatal(t)) {
                    return t;
                }
                try {
                    Operators.onErrorDropped(t, reactorContext);
                } catch (Throwable hookFailed) { // a fail-fast onErrorDropped hook: the outcome stands all the same
                    return Exceptions.isJvmFatal(hookFailed) ? hookFailed : null;
                }
                return null;
            }
        }

        private static boolean rethrowFatal(Throwable fatal, boolean done) {
            if (fatal != null) {
                Exceptions.throwIfJvmFatal(fatal);
            }
            return done;
        }

        @Override
        public boolean complete(Object value) {
            if (!claim()) {
                return false;
            }
            Throwable fatal = cancelSource();
            return rethrowFatal(fatal, super.complete(value));
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            if (!claim()) {
                return false;
            }
            Throwable fatal = cancelSource();
            return rethrowFatal(fatal, super.completeExceptionally(ex));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (!claim()) {
                return isCancelled();
            }
            Throwable fatal = cancelSource();
            return rethrowFatal(fatal, super.cancel(mayInterruptIfRunning));
        }

        /** Not for an attempt: its outcome is claimed once, and the source cancelled with it. */
        @Override
        public void obtrudeValue(Object value) {
            throw new UnsupportedOperationException("an attempt's outcome cannot be replaced");
        }

        /** Not for an attempt: its outcome is claimed once, and the source cancelled with it. */
        @Override
        public void obtrudeException(Throwable ex) {
            throw new UnsupportedOperationException("an attempt's outcome cannot be replaced");
        }

        @Override
        public String toString() {
            return "Attempt[" + k + "]";
        }
    }
}
