package dev.resilience.core;

import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A concurrency limit that adapts to the dependency's latency, as Netflix {@code concurrency-limits}
 * does: each completed call reports its round-trip time to a {@link LimitAlgorithm} (AIMD or Vegas),
 * which raises the limit while latency holds and lowers it as latency rises or calls are dropped.
 *
 * <pre>{@code
 * AdaptiveLimiter limiter = AdaptiveLimiter.builder("search")
 *         .algorithm(LimitAlgorithm.vegas(20, 5, 200)).build();
 *
 * Permit p = limiter.tryAcquire();                  // the permit API of every concurrency guard
 * if (p.isPermitted()) {
 *     try { search(); p.onSuccess(); }                 // a latency sample
 *     catch (Exception e) { p.onFailure(e); throw e; } // a timeout is a drop, others no sample
 * }
 * }</pre>
 *
 * <p>Every granted permit must end with exactly one of its methods. A failure is a <em>drop</em> (a
 * sign of overload that lowers the limit) when it is a {@link TimeoutException}, a
 * {@link TimeoutExceededException}, a {@link RefusedException} from a guard inside or a
 * {@link ContextDoneException}; any other failure, {@link Permit#onExcluded()} and
 * {@link Permit#release()} give the permit back without a sample. Limit updates are serialised
 * without a lock: a sample that arrives while another is being applied is skipped, which only thins
 * the statistics under contention.
 *
 * <p>{@link #call} and {@link #execute} allocate nothing; a permit from {@link #tryAcquire()}
 * remembers its start time in one small object.
 */
public final class AdaptiveLimiter extends InFlightPadRight implements Policy {

    /** What {@link #tryStart()} returns when the limit is reached. */
    private static final long REJECTED = Long.MIN_VALUE;

    private static final VarHandle UPDATING;

    static {
        try {
            UPDATING = MethodHandles.lookup().findVarHandle(AdaptiveLimiter.class, "updating", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final LimitAlgorithm algorithm;
    private final Ticker ticker;
    private final Listeners<AdaptiveLimiterListener> listeners;
    private volatile int limit;
    private volatile int updating;

    private AdaptiveLimiter(Builder b) {
        this.name = b.name;
        this.algorithm = b.algorithm;
        this.ticker = b.ticker;
        this.listeners = GuardedListeners.ofAdaptiveLimiter(b.listeners);
        this.limit = b.algorithm.initialLimit();
    }

    /** Starts building a limiter; {@code name} identifies it in metrics and errors. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Takes a permit if fewer than {@link #limit()} calls are in flight; never waits or throws.
     *
     * @return a granted permit that remembers when the call started, or a shared refusal
     */
    public Permit tryAcquire() {
        long start = tryStart();
        return start == REJECTED ? RefusedPermit.ADAPTIVE : new Started(start);
    }

    /** The ticker reading at the start of the call, or {@link #REJECTED}. */
    private long tryStart() {
        for (;;) {
            int used = inUse;
            if (used >= limit) {
                listener().onRejected(this);
                return REJECTED;
            }
            if (IN_USE.compareAndSet(this, used, used + 1)) {
                long start = ticker.read();
                return start == REJECTED ? start + 1 : start;
            }
        }
    }

    /** The call succeeded: its round-trip time is a sample; the permit is returned. */
    private void onSuccess(long start) {
        sample(ticker.read() - start, false);
    }

    /** The call was dropped (timed out, rejected downstream): a sign of overload; the permit is returned. */
    private void onDropped(long start) {
        sample(ticker.read() - start, true);
    }

    private void sample(long rttNanos, boolean dropped) {
        int inFlight = inUse;
        release();
        if (UPDATING.compareAndSet(this, 0, 1)) {
            try {
                int old = limit;
                int next = algorithm.update(old, rttNanos, inFlight, dropped);
                if (next != old) {
                    limit = Math.max(1, next);
                    listener().onLimitChanged(this, old, limit);
                }
            } finally {
                updating = 0;
            }
        }
    }

    private void release() {
        if ((int) IN_USE.getAndAdd(this, -1) <= 0) {
            IN_USE.getAndAdd(this, 1);
            throw new IllegalStateException(name + ": permit returned without a matching acquire");
        }
    }

    /**
     * Calls {@code task} under a permit; its outcome is classified as the class comment says.
     *
     * @throws RequestNotPermittedException if the limit is reached ({@link RefusedException.Refusal#CONCURRENCY_LIMITED})
     */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        long start = acquireOrThrow();
        T result;
        try {
            result = next.invoke(index, task);
        } catch (Throwable e) {
            end(start, e);
            throw e;
        }
        onSuccess(start);
        return result;
    }

    /** Like {@link #call} for asynchronous work: the sample is taken when the stage completes. */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        long start;
        try {
            start = acquireOrThrow();
        } catch (RequestNotPermittedException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletionStage<T> stage = Stages.start(task);
        return stage.whenComplete((v, e) -> {
            if (e == null) {
                onSuccess(start);
            } else {
                end(start, e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e);
            }
        });
    }

    private long acquireOrThrow() {
        long start = tryStart();
        if (start == REJECTED) {
            throw new RequestNotPermittedException(name, RequestNotPermittedException.Reason.LIMIT_EXCEEDED,
                    "concurrency limit " + limit + " reached");
        }
        return start;
    }

    private void end(long start, Throwable e) {
        if (e instanceof TimeoutException || e instanceof TimeoutExceededException || e instanceof RefusedException
                || e instanceof ContextDoneException) {
            onDropped(start);
        } else {
            release();
        }
    }

    /** A granted permit: the start time of its call. */
    private final class Started implements Permit {
        private final long start;

        Started(long start) {
            this.start = start;
        }

        @Override
        public boolean isPermitted() {
            return true;
        }

        @Override
        public void onSuccess() {
            AdaptiveLimiter.this.onSuccess(start);
        }

        @Override
        public void onFailure(Throwable failure) {
            Objects.requireNonNull(failure, "failure");
            end(start, failure);
        }

        @Override
        public void onExcluded() {
            AdaptiveLimiter.this.release();
        }

        @Override
        public void release() {
            AdaptiveLimiter.this.release();
        }
    }

    /** The current limit. */
    public int limit() {
        return limit;
    }

    /** Calls in flight now. */
    public int inFlight() {
        return inUse;
    }

    @Override
    public Kind kind() {
        return Kind.CONCURRENCY_LIMIT;
    }

    /**
     * Adds a listener of this adaptiveLimiter's events, beside those given to the builder (as a
     * metrics binder does); events already in flight may miss it.
     *
     * @param listener the listener; what it throws is logged and changes nothing
     * @return removes the listener again
     */
    public Registration addListener(AdaptiveLimiterListener listener) {
        return listeners.add(listener);
    }

    /** Every listener as one (the no-op listener while there is none). */
    private AdaptiveLimiterListener listener() {
        return listeners.current();
    }

    /** The limiter's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "AdaptiveLimiter[" + name + ", " + inUse + "/" + limit + ", " + algorithm + "]";
    }

    /** Builds an {@link AdaptiveLimiter}; the algorithm is required. */
    public static final class Builder {
        private final String name;
        private LimitAlgorithm algorithm;
        private Ticker ticker;
        private final List<AdaptiveLimiterListener> listeners = new ArrayList<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** How the limit moves; see {@link LimitAlgorithm#aimd} and {@link LimitAlgorithm#vegas}. */
        public Builder algorithm(LimitAlgorithm algorithm) {
            Checks.once(this.algorithm == null, "algorithm");
            this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
            return this;
        }

        /** The clock round trips are measured on; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

            /**
         * Adds a listener of the adaptiveLimiter's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(AdaptiveLimiterListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Builds the limiter at the algorithm's initial limit. */
        public AdaptiveLimiter build() {
            if (algorithm == null) {
                throw new IllegalStateException("algorithm must be set");
            }
            if (algorithm.initialLimit() < 1) {
                throw new IllegalArgumentException("initial limit must be at least 1: " + algorithm.initialLimit());
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            return new AdaptiveLimiter(this);
        }
    }
}
