package dev.resilience.core;

import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineExceededException;
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
 * does: each completed call reports its round-trip time to a {@link LimitAlgorithm} (AIMD, Vegas or Gradient2),
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
 * {@link DeadlineExceededException}; any other failure (a {@link ContextDoneException} that is a
 * cancellation included: a hedge cancels its losing attempt), {@link Permit#onExcluded()} and
 * {@link Permit#release()} give the permit back without a sample. Only a permit's first end counts. Limit updates are serialised
 * without a lock: a sample that arrives while another is being applied is skipped, which only thins
 * the statistics under contention.
 *
 * <p>{@link #call} and {@link #execute} allocate nothing; a permit from {@link #tryAcquire()}
 * remembers its start time in one small object.
 */
public final class AdaptiveLimiter extends InFlightPadRight implements Policy, Listenable<AdaptiveLimiterListener> {

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
                listeners.current().onRejected(this);
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
                int next;
                try {
                    next = algorithm.update(old, rttNanos, inFlight, dropped);
                } catch (Throwable e) {
                    // the user's algorithm, whatever it throws (an AssertionError too): the call's
                    // outcome stands, the limit stays, the failure is logged
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt(); // thrown past the signature: the flag is kept
                    }
                    GuardedListeners.failed(algorithm, "update", e);
                    next = old;
                }
                if (next != old) {
                    limit = Math.max(1, next);
                    listeners.current().onLimitChanged(this, old, limit);
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
        return Stages.underPermit(new Started(start), task); // a cancelled returned stage gives the permit back
    }

    private long acquireOrThrow() {
        long start = tryStart();
        if (start == REJECTED) {
            throw new RequestNotPermittedException(name, RequestNotPermittedException.Reason.LIMIT_EXCEEDED,
                    "concurrency limit " + limit + " reached");
        }
        return start;
    }

    /**
     * A drop is a sign of overload: a timeout, a refusal inside, a deadline passed. A cancellation is
     * not (a hedge cancels its losing attempt, a caller leaves): no sample.
     */
    private void end(long start, Throwable e) {
        if (e instanceof TimeoutException || e instanceof TimeoutExceededException || e instanceof RefusedException
                || e instanceof DeadlineExceededException) {
            onDropped(start);
        } else {
            release();
        }
    }

    /** A granted permit: the start time of its call; only its first end counts. */
    private final class Started implements Permit {
        private final long start;
        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

        Started(long start) {
            this.start = start;
        }

        @Override
        public boolean isPermitted() {
            return true;
        }

        @Override
        public void onSuccess() {
            if (ended.compareAndSet(false, true)) {
                AdaptiveLimiter.this.onSuccess(start);
            }
        }

        @Override
        public void onFailure(Throwable failure) {
            if (ended.compareAndSet(false, true)) {
                if (failure == null) {
                    AdaptiveLimiter.this.release();
                    throw new NullPointerException("failure");
                }
                end(start, failure);
            }
        }

        @Override
        public void onExcluded() {
            release();
        }

        @Override
        public void release() {
            if (ended.compareAndSet(false, true)) {
                AdaptiveLimiter.this.release();
            }
        }
    }

    /** The current limit. */
    public int limit() {
        return limit;
    }

    /**
     * Whether {@code failure} (or one of its causes, a few levels down: frameworks wrap) says that
     * the call's deadline made it fail: the context's {@link DeadlineExceededException}, or a
     * {@link RequestNotPermittedException} because a wait would pass the deadline. The inbound
     * filters use it to give a permit back without a sample when that deadline is the caller's own.
     *
     * @param failure a call's failure, or null (false)
     * @return whether the deadline made the call fail
     */
    public static boolean failedByDeadline(Throwable failure) {
        Throwable e = failure;
        for (int depth = 0; e != null && depth < 8; depth++, e = e.getCause()) {
            if (e instanceof DeadlineExceededException || (e instanceof RequestNotPermittedException
                    && ((RequestNotPermittedException) e).reason() == RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE)) {
                return true;
            }
        }
        return false;
    }

    /** Calls in flight now. */
    public int inFlight() {
        return inUse;
    }

    @Override
    public Kind kind() {
        return Kind.CONCURRENCY_LIMIT;
    }

    @Override
    public Registration addListener(AdaptiveLimiterListener listener) {
        return listeners.add(listener);
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

        /**
         * How the limit moves; see {@link LimitAlgorithm#aimd}, {@link LimitAlgorithm#vegas} and
         * {@link LimitAlgorithm#gradient2(int, int, int)}.
         */
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
         * Adds a listener of the adaptive limiter's events; may be called any number of times (each listener
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
