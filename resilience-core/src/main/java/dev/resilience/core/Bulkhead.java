package dev.resilience.core;

import dev.resilience.context.Context;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A semaphore bulkhead: at most {@code maxConcurrent} calls at once, so a slow dependency cannot take
 * every thread. Callers may wait for a slot, for at most {@code maxWait} and never past the current
 * context's deadline.
 *
 * <pre>{@code
 * Bulkhead bulkhead = Bulkhead.builder("inventory").maxConcurrent(20).maxWait(Duration.ofMillis(10)).build();
 *
 * Permit p = bulkhead.tryAcquire();           // hot path: no allocation, no exception
 * if (p.isPermitted()) {
 *     try { ... } finally { p.release(); }
 * }
 * Stock s = bulkhead.call(() -> inventory.get(sku));   // waits, releases however the call ends
 * }</pre>
 *
 * <p>Slots always come back: {@link #call} releases on success, exception and interruption;
 * {@link #callAsync} releases when the returned stage completes or is cancelled, whichever comes
 * first; ending it from outside (a cancel, a timeout) ends the task's stage alike. A waiter that
 * gives up (deadline, cancellation, interrupt) takes no slot and passes its wake-up on, so no slot
 * is stranded while others wait. Waiting is not FIFO: a caller arriving when a slot is free takes
 * it even if others are queued.
 */
public final class Bulkhead extends InFlightPadRight implements Policy, Listenable<BulkheadListener> {

    private final String name;
    /** Volatile: {@link #setMaxConcurrent} may change it while calls run (an atomic swap, so concurrent resizes each see the size they replaced). */
    private volatile int maxConcurrent;
    private static final VarHandle MAX_CONCURRENT;

    static {
        try {
            MAX_CONCURRENT = MethodHandles.lookup().findVarHandle(Bulkhead.class, "maxConcurrent", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private final long maxWaitNanos;
    private final Ticker ticker;
    private final Listeners<BulkheadListener> listeners;
    private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
    /** The one granted permit: a slot carries no per-call data. */
    private final Permit granted = new Slot();

    private Bulkhead(Builder b) {
        this.name = b.name;
        this.maxConcurrent = b.maxConcurrent;
        this.maxWaitNanos = b.maxWaitNanos;
        this.ticker = b.ticker;
        this.listeners = GuardedListeners.ofBulkhead(b.listeners);
    }

    /** Starts building a bulkhead; {@code name} identifies it in metrics and errors. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Takes a slot if one is free now; never waits, throws or allocates. A granted permit gives its
     * slot back on any of its methods, exactly once per grant.
     *
     * @return the granted permit (shared by every grant), or a refusal
     */
    public Permit tryAcquire() {
        if (tryTake()) {
            listeners.current().onPermitted(this, 0L);
            return granted;
        }
        listeners.current().onRejected(this);
        return RefusedPermit.BULKHEAD;
    }

    private boolean tryTake() {
        for (;;) {
            int used = inUse;
            if (used >= maxConcurrent) {
                return false;
            }
            if (IN_USE.compareAndSet(this, used, used + 1)) {
                return true;
            }
        }
    }

    /** Gives a slot back and wakes one waiter, if any. */
    private void release() {
        int before = (int) IN_USE.getAndAdd(this, -1);
        if (before <= 0) {
            IN_USE.getAndAdd(this, 1);
            throw new IllegalStateException(name + ": release() without a matching acquire");
        }
        listeners.current().onReleased(this);
        if (!waiters.isEmpty()) {
            Thread next = waiters.peek();
            if (next != null) {
                LockSupport.unpark(next);
            }
        }
    }

    /**
     * Takes a slot, waiting up to {@code maxWait} and never past the current context's deadline.
     *
     * @throws BulkheadFullException if no slot was free in time
     * @throws dev.resilience.context.ContextDoneException if the context is or becomes done first
     * @throws InterruptedException if interrupted while waiting
     * @return the granted permit; give the slot back through it
     */
    public Permit acquire() throws InterruptedException {
        Context ctx = Context.current();
        ctx.throwIfDone();
        if (tryTake()) {
            listeners.current().onPermitted(this, 0L);
            return granted;
        }
        if (maxWaitNanos == 0) {
            throw rejected();
        }
        long start = ticker.read();
        long until = start + Math.min(maxWaitNanos, ctx.remainingNanos());
        Thread self = Thread.currentThread();
        waiters.add(self);
        WaitResult r = WaitResult.WOKEN;
        try {
            while (true) {
                if (tryTake()) {
                    listeners.current().onPermitted(this, ticker.read() - start);
                    return granted;
                }
                if (r != WaitResult.WOKEN) {
                    break;
                }
                r = ctx.parkUntil(ticker, until);
            }
        } finally {
            waiters.remove(self);
            if (inUse < maxConcurrent) {
                Thread next = waiters.peek();
                if (next != null) {
                    LockSupport.unpark(next);
                }
            }
        }
        if (r == WaitResult.INTERRUPTED) {
            Thread.interrupted();
            throw new InterruptedException(name + ": interrupted while waiting for a slot");
        }
        ctx.throwIfDone();
        throw rejected();
    }

    /**
     * Changes the number of slots, for example on a configuration reload. More slots are usable at
     * once (waiters are woken); with fewer, calls in flight finish undisturbed and new ones are
     * refused until fewer than {@code maxConcurrent} remain.
     *
     * @throws IllegalArgumentException if {@code maxConcurrent} is below 1
     */
    public void setMaxConcurrent(int maxConcurrent) {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be at least 1: " + maxConcurrent);
        }
        int before = (int) MAX_CONCURRENT.getAndSet(this, maxConcurrent);
        if (maxConcurrent > before) {
            waiters.forEach(LockSupport::unpark); // each retries; those that find no slot wait again
        }
    }

    private BulkheadFullException rejected() {
        listeners.current().onRejected(this);
        return new BulkheadFullException(name, "all " + maxConcurrent + " slots in use");
    }

    /** Takes a slot (waiting as {@link #acquire()} does), calls {@code task}, and releases. */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        acquire();
        try {
            return next.invoke(index, task);
        } finally {
            release();
        }
    }

    /**
     * Takes a slot if one is free now (the asynchronous form does not wait) and starts
     * {@code task}; the slot comes back when the task's stage completes, or when the returned
     * stage is cancelled, whichever is first. Fails with {@link BulkheadFullException} when
     * full.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        if (!tryAcquire().isPermitted()) {
            return CompletableFuture.failedFuture(new BulkheadFullException(name, "all " + maxConcurrent + " slots in use"));
        }
        CompletionStage<T> stage = Stages.start(task); // never throws: a throwing supplier is a failed stage
        if (Stages.succeeded(stage)) {
            release(); // done already: nothing to wait for, nothing to register
            return stage;
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable releaseOnce = () -> {
            if (released.compareAndSet(false, true)) {
                release();
            }
        };
        CompletableFuture<T> result = new CompletableFuture<>();
        stage.whenComplete((v, e) -> {
            releaseOnce.run();
            Stages.relay(result, v, e);
        });
        if (!result.isDone()) {
            result.whenComplete((v, e) -> { // a cancel or a timeout outside: the slot comes back, the work is ended
                releaseOnce.run();
                Stages.endInside(stage, e);
            });
        }
        return result;
    }

    /** Slots in use now. */
    public int inUse() {
        return inUse;
    }

    /** Slots free now. */
    public int available() {
        return Math.max(0, maxConcurrent - inUse); // after a shrink, more may be in use than the size
    }

    /** Threads waiting for a slot now (an estimate). */
    public int waiting() {
        return waiters.size();
    }

    /** The current maximum (see {@link #setMaxConcurrent}). */
    public int maxConcurrent() {
        return maxConcurrent;
    }

    /** Takes a slot (waiting as {@link #acquire()} does), runs {@code task}, and releases; allocates nothing. */
    @Override
    public void run(Runnable task) throws Exception {
        Objects.requireNonNull(task, "task");
        acquire();
        try {
            task.run();
        } finally {
            release();
        }
    }

    @Override
    public Kind kind() {
        return Kind.CONCURRENCY_LIMIT;
    }

    @Override
    public Registration addListener(BulkheadListener listener) {
        return listeners.add(listener);
    }

    /** The bulkhead's name. */
    public String name() {
        return name;
    }

    /** The permit of a granted slot: any end gives the slot back. */
    private final class Slot implements Permit {
        @Override
        public boolean isPermitted() {
            return true;
        }

        @Override
        public void onSuccess() {
            release();
        }

        @Override
        public void onFailure(Throwable failure) {
            release(); // first: a null failure is a caller bug, not a reason to strand the slot
            Objects.requireNonNull(failure, "failure");
        }

        @Override
        public void onExcluded() {
            release();
        }

        @Override
        public void release() {
            Bulkhead.this.release();
        }

        @Override
        public String toString() {
            return "Permit[" + name + "]";
        }
    }

    @Override
    public String toString() {
        return "Bulkhead[" + name + ", " + inUse + "/" + maxConcurrent + " in use]";
    }

    /** Builds a {@link Bulkhead}. Each setter may be called once; {@code maxConcurrent} is required. */
    public static final class Builder {
        private final String name;
        private int maxConcurrent = -1;
        private long maxWaitNanos = -1;
        private Ticker ticker;
        private final List<BulkheadListener> listeners = new ArrayList<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** The most calls at once; at least 1. */
        public Builder maxConcurrent(int maxConcurrent) {
            Checks.once(this.maxConcurrent < 0, "maxConcurrent");
            if (maxConcurrent < 1) {
                throw new IllegalArgumentException("maxConcurrent must be at least 1: " + maxConcurrent);
            }
            this.maxConcurrent = maxConcurrent;
            return this;
        }

        /** How long {@code acquire}/{@code call} may wait for a slot; default zero (no wait). */
        public Builder maxWait(Duration maxWait) {
            Checks.once(this.maxWaitNanos < 0, "maxWait");
            this.maxWaitNanos = Checks.nonNegativeNanos(maxWait, "maxWait");
            return this;
        }

        /** The clock waits are measured on; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds a listener of the bulkhead's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(BulkheadListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Builds the bulkhead with all slots free. */
        public Bulkhead build() {
            if (maxConcurrent < 0) {
                throw new IllegalStateException("maxConcurrent must be set");
            }
            if (maxWaitNanos < 0) {
                maxWaitNanos = 0;
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            return new Bulkhead(this);
        }
    }
}
