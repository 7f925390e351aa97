package dev.resilience.core;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Bounds a call by the earlier of {@code timeout} and the current context's deadline. The call runs
 * under a child context that is cancelled (deadline exceeded) when the time is up, so work that
 * honours {@link Context#current()} stops; optionally the worker thread is interrupted too.
 *
 * <pre>{@code
 * Timeout timeout = Timeout.builder("search").timeout(Duration.ofMillis(300)).interruptOnTimeout().build();
 * Results r = timeout.call(() -> search(query));          // TimeoutExceededException after 300 ms
 * }</pre>
 *
 * <p><b>Synchronous</b> calls run on the caller's thread, so they end when the work ends (promptly
 * if it honours the context or the interrupt); if that is after the time is up, the result is
 * discarded and {@link TimeoutExceededException} is thrown. <b>Asynchronous</b> calls complete with
 * {@link TimeoutExceededException} at the deadline even if the work ignores cancellation; the work's
 * late outcome is discarded, and the returned stage is completed exactly once.
 *
 * <p>When the caller's own deadline is the earlier one, reaching it is the caller's
 * {@link DeadlineExceededException}, not this policy's timeout.
 */
public final class Timeout implements Policy, Listenable<TimeoutListener> {

    private final String name;
    private final long timeoutNanos;
    private final Duration timeout;
    private final boolean interrupt;
    private final Ticker ticker;
    private final Listeners<TimeoutListener> listeners;

    private Timeout(Builder b) {
        this.name = b.name;
        this.timeoutNanos = b.timeoutNanos;
        this.timeout = Duration.ofNanos(b.timeoutNanos);
        this.interrupt = b.interrupt;
        this.ticker = b.ticker;
        this.listeners = GuardedListeners.ofTimeout(b.listeners);
    }

    /** Starts building a timeout policy; {@code name} identifies it in errors and metrics. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Calls {@code task} under the bounded child context.
     *
     * @throws TimeoutExceededException if this policy's time ran out first (the task's own late
     *     exception, if any, is its cause)
     * @throws DeadlineExceededException if the caller's earlier deadline ran out
     */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        Context parent = Context.current();
        T result;
        try (CancelHandle call = parent.withTimeout(timeout, ticker);
             Scope scope = interrupt ? call.context().attachInterruptibly() : call.attach()) {
            try {
                result = next.invoke(index, task);
            } catch (Throwable e) {
                throwIfTimedOut(call.context(), parent, e);
                throw e;
            }
            throwIfTimedOut(call.context(), parent, null);
        }
        return result;
    }

    private void throwIfTimedOut(Context call, Context parent, Throwable late) {
        if (call.isDone() && call.err() instanceof DeadlineExceededException) {
            parent.throwIfDone();
            listeners.current().onTimeout(this);
            throw new TimeoutExceededException(name, timeoutNanos, late);
        }
    }


    /**
     * Starts {@code task} under the bounded child context; the returned stage completes with the
     * task's outcome, or with {@link TimeoutExceededException} (or the caller's context exception)
     * as soon as time is up, whichever comes first. When time is up first, the task's context is
     * cancelled and its stage (if it is a {@code CompletableFuture} or can be turned into one) fails
     * with the same {@link TimeoutExceededException}, so that policies inside count the timeout (an
     * adaptive limiter samples a drop) and give their permits back even if the work ignores its
     * context, as Resilience4j's {@code TimeLimiter} cancels the running future by default; when the
     * caller cancels the returned stage, the task's stage is cancelled. A future shared with other
     * callers (a cached or coalesced request) should be handed out as {@code shared.copy()}, so that
     * one caller's timeout ends its copy only.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        Context parent = Context.current();
        CancelHandle call = parent.withTimeout(timeout, ticker);
        CompletableFuture<T> result = new CompletableFuture<>();
        CompletionStage<T> stage;
        try (Scope scope = call.attach()) {
            stage = Stages.start(task);
        }
        // Registered once the task's stage exists (a deadline already passed runs it here, at once).
        TimeUp<T> timeUp = new TimeUp<>(parent, call, stage, result);
        Registration onTimeUp = call.context().onDone(timeUp, Runnable::run);
        stage.whenComplete((value, error) -> {
            onTimeUp.remove();
            if (timeUp.ending) {
                call.cancel();
                return; // time up is ending the stage: it completes the result once the policies inside let go
            }
            // Decided as execute() decides: an outcome that arrives once time is up is late. This also
            // covers a task that saw the expired context (and failed with its error) on another thread
            // while the thread that expired it had not yet run onTimeUp.
            Context own = call.context();
            if (own.isDone() && own.err() instanceof DeadlineExceededException) {
                if (parent.isDone()) {
                    result.completeExceptionally(parent.err());
                } else if (result.completeExceptionally(
                        new TimeoutExceededException(name, timeoutNanos, Stages.unwrap(error)))) {
                    listeners.current().onTimeout(this);
                }
            } else if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(value);
            }
            call.cancel();
        });
        if (!(result.isDone() && Stages.done(stage))) {
            // (Skipped only when both are done. The result can end before the task's stage: time up
            // ends a stage that cannot be ended from outside only when its work does.)
            // Time up, the caller's context done, or the caller cancelling: the work is not wanted,
            // and a policy inside (a bulkhead, a limiter) counts it and gives its permit back when its
            // stage ends so. A stage that is done is left as it is.
            result.whenComplete((value, error) -> {
                call.cancel();
                Stages.endInside(stage, error); // failed with the timeout (policies inside count it so), or cancelled
            });
        }
        return result;
    }

    /**
     * Time up (or the caller's context done) for one asynchronous call: ends the work inside first,
     * so the policies inside (a bulkhead, a limiter) give their permits back before the caller, a
     * retry say, hears of it and tries again; then fails the result. A future's dependents run
     * last-registered first, so the stage's own outcome handler, registered after the policies
     * inside registered theirs, would otherwise complete the result before they ran: while this
     * runs, that handler leaves the result alone. Best effort where the work completes its stage on
     * another thread at the moment time is up: that thread may still be running the policies'
     * handlers when the result completes.
     */
    private final class TimeUp<T> implements Runnable {
        private final Context parent;
        private final CancelHandle call;
        private final CompletionStage<T> stage;
        private final CompletableFuture<T> result;
        volatile boolean ending;

        TimeUp(Context parent, CancelHandle call, CompletionStage<T> stage, CompletableFuture<T> result) {
            this.parent = parent;
            this.call = call;
            this.stage = stage;
            this.result = result;
        }

        @Override
        public void run() {
            if (parent.isDone()) {
                ending = true;
                ContextDoneException why = parent.err();
                try {
                    Stages.endInside(stage, why);
                } finally { // the stage's handler left the result to this: it completes whatever happened inside
                    result.completeExceptionally(why);
                }
            } else if (call.context().err() instanceof DeadlineExceededException) {
                ending = true;
                TimeoutExceededException timedOut = new TimeoutExceededException(name, timeoutNanos, null);
                try {
                    Stages.endInside(stage, timedOut);
                } finally {
                    if (result.completeExceptionally(timedOut)) {
                        listeners.current().onTimeout(Timeout.this);
                    }
                }
            }
        }
    }

    /** The configured timeout. */
    public Duration timeout() {
        return timeout;
    }

    @Override
    public Kind kind() {
        return Kind.TIMEOUT;
    }

    @Override
    public Registration addListener(TimeoutListener listener) {
        return listeners.add(listener);
    }

    /** The policy's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Timeout[" + name + ", " + timeout + (interrupt ? ", interrupting" : "") + "]";
    }

    /** Builds a {@link Timeout}; {@code timeout} is required. */
    public static final class Builder {
        private final String name;
        private long timeoutNanos = -1;
        private boolean interrupt;
        private Ticker ticker;
        private final List<TimeoutListener> listeners = new ArrayList<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** How long a call may take; positive. */
        public Builder timeout(Duration timeout) {
            Checks.once(this.timeoutNanos < 0, "timeout");
            this.timeoutNanos = Checks.positiveNanos(timeout, "timeout");
            return this;
        }

        /** Also interrupt the thread running a synchronous call when time is up (off by default). */
        public Builder interruptOnTimeout() {
            this.interrupt = true;
            return this;
        }

        /** The clock; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds a listener of the timeout's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(TimeoutListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Builds the policy. */
        public Timeout build() {
            if (timeoutNanos < 0) {
                throw new IllegalStateException("timeout must be set");
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            return new Timeout(this);
        }
    }
}
