package dev.resilience.context;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * An immutable carrier of a deadline, a cancellation signal and request-scoped values across API
 * boundaries and threads, with the semantics of Go's {@code context} package.
 *
 * <p>Contexts form a tree rooted at {@link #background()}. Derive children with
 * {@link #withCancel()}, {@link #withTimeout}, {@link #withDeadline} (each returns the
 * {@link CancelHandle} that alone can cancel the child), {@link #withValue} and
 * {@link #withoutCancel()}. A child's deadline is the earlier of its own and its parent's;
 * cancelling a parent cancels every descendant, never the other way round.
 *
 * <pre>{@code
 * static final Context.Key<String> TENANT = Context.Key.named("tenant");
 *
 * try (CancelHandle call = Context.current().withValue(TENANT, "acme")
 *                                         .withTimeout(Duration.ofMillis(250));
 *      Scope scope = call.attach()) {
 *     TENANT.get();                         // "acme", on this thread and in wrapped executors
 *     Context.current().remaining();        // about 250 ms, or less if the caller had less
 *     Context.current().throwIfDone();      // DeadlineExceededException once the time is up
 * }
 * }</pre>
 *
 * <p><b>Cost.</b> Deriving a context allocates the context (and, for cancellable ones, its handle);
 * nothing else. A deadline needs no timer: expiry is computed from the ticker when asked and cached
 * once seen. Only when something waits on the context ({@link #parkUntil}) or listens to it
 * ({@link #onDone}) is a shared timer armed, and it is withdrawn when the context ends early.
 *
 * <p><b>Current context.</b> {@link #current()} is per thread; {@link #attach()} makes a context
 * current until its {@link Scope} is closed. Wrap tasks ({@link #wrap(Runnable)}), executors
 * ({@link ContextExecutors}) and futures ({@link ContextFuture}) to carry it across threads.
 */
public final class Context {

    private static final Context BACKGROUND = new Context(null, null, null, null);
    private static final ThreadLocal<Slot> SLOT = ThreadLocal.withInitial(Slot::new);

    /** Parent for value lookup; null only for the background context. */
    private final Context parent;
    private final Key<?> key;
    private final Object value;
    /** Nearest cancellation node (this context's own, or inherited); null if never done. */
    final CancelHandle cancel;

    private Context(Context parent, Key<?> key, Object value, CancelHandle cancel) {
        this.parent = parent;
        this.key = key;
        this.value = value;
        this.cancel = cancel;
    }

    /** The context of a {@link CancelHandle}; called from its constructor. */
    Context(Context parent, CancelHandle cancel) {
        this(parent, null, null, cancel);
    }

    // ---------------------------------------------------------------- roots and current

    /** The root context: never done, no deadline, no values. */
    public static Context background() {
        return BACKGROUND;
    }

    /** The context attached to this thread, or {@link #background()} if none is. */
    public static Context current() {
        return SLOT.get().current();
    }

    /**
     * Makes this context the current one of this thread until the returned scope is closed.
     * Close scopes in reverse order of attaching, on the same thread (try-with-resources does that).
     */
    public Scope attach() {
        return SLOT.get().push(this, null);
    }

    /**
     * Like {@link #attach()}, and also interrupts this thread if the context becomes done while the
     * scope is open, so blocking I/O and {@code Thread.sleep} give up. Closing the scope withdraws
     * the interrupt; an interrupt this scope delivered is cleared on close so it cannot leak into
     * unrelated work on a pooled thread.
     */
    public Scope attachInterruptibly() {
        CancelHandle c = cancel;
        CancelHandle.InterruptEntry interrupt = null;
        if (c != null) {
            interrupt = new CancelHandle.InterruptEntry(c, Thread.currentThread());
        }
        Scope scope = SLOT.get().push(this, interrupt);
        if (interrupt != null) {
            c.listen(interrupt);
        }
        return scope;
    }

    // ---------------------------------------------------------------- derivation

    /** A child that is cancelled when its handle is, or when this context is done. */
    public CancelHandle withCancel() {
        return new CancelHandle(this, null, 0L, false);
    }

    /**
     * A child whose deadline is the earlier of {@code deadline} and this context's deadline. A
     * deadline that has already passed gives a context that is done at once with
     * {@link DeadlineExceededException}, as in Go.
     *
     * @param deadline the child's own deadline
     */
    public CancelHandle withDeadline(Deadline deadline) {
        return withDeadlineCause(deadline, null);
    }

    /**
     * Like {@link #withDeadline}, and when the deadline is exceeded {@link #cause()} reports
     * {@code cause} (while {@link #err()} is still {@link DeadlineExceededException}); Go's
     * {@code WithDeadlineCause}.
     *
     * @param cause may be null (then this is {@link #withDeadline})
     */
    public CancelHandle withDeadlineCause(Deadline deadline, Throwable cause) {
        Objects.requireNonNull(deadline, "deadline");
        CancelHandle h = new CancelHandle(this, deadline.ticker(), deadline.nanos(), true, cause);
        if (deadline.ticker().read() - deadline.nanos() >= 0) {
            h.expireNow();
        }
        return h;
    }

    /**
     * A child whose deadline is {@code timeout} from now on the ticker of this context's deadline
     * (the system ticker if it has none), or this context's deadline if that is earlier.
     *
     * @param timeout zero or negative gives a context that is done at once with
     *     {@link DeadlineExceededException} (Go's {@code WithTimeout} of an exhausted budget: a
     *     service computing "upstream deadline minus now" gets a done context, not an exception);
     *     longer than about 146 years is capped
     */
    public CancelHandle withTimeout(Duration timeout) {
        return withTimeoutCause(timeout, null);
    }

    /**
     * Like {@link #withTimeout(Duration)}, and when the timeout expires {@link #cause()} reports
     * {@code cause}; Go's {@code WithTimeoutCause}.
     *
     * @param cause may be null
     */
    public CancelHandle withTimeoutCause(Duration timeout, Throwable cause) {
        Objects.requireNonNull(timeout, "timeout");
        Ticker t = cancel == null ? null : cancel.deadlineTicker();
        return timeoutOn(timeout, t == null ? Ticker.system() : t, cause);
    }

    /**
     * A child whose deadline is {@code timeout} from now on {@code ticker}, or this context's
     * deadline if that is earlier; see {@link #withTimeout(Duration)}.
     */
    public CancelHandle withTimeout(Duration timeout, Ticker ticker) {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(ticker, "ticker");
        return timeoutOn(timeout, ticker, null);
    }

    private CancelHandle timeoutOn(Duration timeout, Ticker ticker, Throwable cause) {
        boolean exhausted = timeout.isNegative() || timeout.isZero();
        long nanos = exhausted ? 0L : Deadline.timeoutNanos(timeout);
        CancelHandle h = new CancelHandle(this, ticker, ticker.read() + nanos, true, cause);
        if (exhausted) {
            h.expireNow(); // decided by the sign of the timeout: no clock needed, and a later cancel() cannot win
        }
        return h;
    }

    /**
     * A child carrying {@code value} under {@code key}; everything else is inherited.
     *
     * @param value may be null, which hides the parent's value for this key
     */
    public <T> Context withValue(Key<T> key, T value) {
        Objects.requireNonNull(key, "key");
        return new Context(this, key, value, cancel);
    }

    /**
     * A child that keeps this context's values but is never done and has no deadline; Go's
     * {@code WithoutCancel}. For work that must finish even if the request that started it ends.
     */
    public Context withoutCancel() {
        return new Context(this, null, null, null);
    }

    // ---------------------------------------------------------------- values

    /**
     * The value for {@code key} in this context or its nearest ancestor that has one, else the key's
     * default.
     */
    @SuppressWarnings("unchecked")
    public <T> T get(Key<T> key) {
        Objects.requireNonNull(key, "key");
        for (Context c = this; c != null; c = c.parent) {
            if (c.key == key) {
                return (T) c.value;
            }
        }
        return key.defaultValue;
    }

    // ---------------------------------------------------------------- deadline and done

    /** The effective deadline: the earliest of this context's and its ancestors'. */
    public Optional<Deadline> deadline() {
        return cancel == null ? Optional.empty() : cancel.deadline();
    }

    /**
     * Nanoseconds until the effective deadline: {@link Long#MAX_VALUE} without one, zero once it has
     * passed. A cancelled context keeps its deadline; check {@link #isDone()} as well.
     */
    public long remainingNanos() {
        return cancel == null ? Long.MAX_VALUE : cancel.remainingNanos();
    }

    /** Time until the effective deadline (zero once passed), or empty without a deadline. */
    public Optional<Duration> remaining() {
        if (cancel == null || !cancel.hasDeadline()) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos(cancel.remainingNanos()));
    }

    /** True once the context is cancelled or its deadline has passed; Go's {@code <-ctx.Done()}. */
    public boolean isDone() {
        CancelHandle c = cancel;
        return c != null && c.isDone();
    }

    /**
     * Why the context is done ({@link ContextCancelledException} or
     * {@link DeadlineExceededException}), or null while it is not; Go's {@code ctx.Err()}.
     */
    public ContextDoneException err() {
        CancelHandle c = cancel;
        return c == null ? null : c.err();
    }

    /**
     * The cause given to {@link CancelHandle#cancel(Throwable)} (by this context's handle or the
     * ancestor's that cancelled it), else {@link #err()}; null while not done. Go's
     * {@code context.Cause}.
     */
    public Throwable cause() {
        ContextDoneException e = err();
        if (e == null) {
            return null;
        }
        return e.getCause() != null ? e.getCause() : e;
    }

    /**
     * Throws if the context is done: a {@link ContextCancelledException} or
     * {@link DeadlineExceededException} with this caller's stack trace and the cancellation cause.
     */
    public void throwIfDone() {
        ContextDoneException e = err();
        if (e != null) {
            throw e.withStackTrace();
        }
    }

    /**
     * Runs {@code callback} once the context is done (at once if it is done already); Go's
     * {@code AfterFunc}. Like Go's, the callback runs on a thread of its own (a virtual thread on
     * JDK 21+, else a daemon thread from a cached pool): a slow or blocking callback delays neither
     * the code that cancels the context, nor the deadline timer, nor other callbacks. That costs a
     * thread hand-off per callback; for many short, non-blocking callbacks pass an executor, or
     * {@code Runnable::run}, to {@link #onDone(Runnable, java.util.concurrent.Executor)}.
     * Exceptions from the callback go to that thread's uncaught-exception handler.
     *
     * <p>Listening arms the deadline timer, if the context has a deadline of its own.
     *
     * @return a registration whose {@link Registration#remove()} withdraws the callback
     */
    public Registration onDone(Runnable callback) {
        return onDone(callback, Timers.CALLBACK_EXECUTOR);
    }

    /**
     * Like {@link #onDone(Runnable)}, running {@code callback} through {@code executor}. With
     * {@code Runnable::run} it runs on the thread that finishes the context: the canceller, the
     * thread that first observes an expired deadline, the thread advancing a {@link ManualTicker},
     * or, if already done, this thread; never the shared timer thread, which hands it to the default
     * callback threads. Use that only for short, non-blocking callbacks (completing a future, waking a thread).
     * If {@code executor} rejects the callback, it runs as {@link #onDone(Runnable)} would run it.
     */
    public Registration onDone(Runnable callback, java.util.concurrent.Executor executor) {
        Objects.requireNonNull(callback, "callback");
        Objects.requireNonNull(executor, "executor");
        CancelHandle c = cancel;
        if (c == null) {
            return () -> true;
        }
        CancelHandle.CallbackEntry entry = new CancelHandle.CallbackEntry(c, callback, executor);
        c.listen(entry);
        return entry;
    }

    // ---------------------------------------------------------------- waiting

    /**
     * Parks the current thread once: until {@code ticker} reads {@code wakeAt}, the context is done,
     * the thread is interrupted, or it is unparked. The building block of every blocking operation
     * of the toolkit: callers loop, re-checking their own condition after {@link WaitResult#WOKEN}.
     *
     * @param ticker the clock {@code wakeAt} is read on; a {@link ManualTicker} wakes the thread
     *     when advanced past {@code wakeAt}
     * @param wakeAt the ticker reading to wake at
     */
    public WaitResult parkUntil(Ticker ticker, long wakeAt) {
        Objects.requireNonNull(ticker, "ticker");
        CancelHandle c = cancel;
        WaitResult early = check(c, ticker, wakeAt);
        if (early != null) {
            return early;
        }
        CancelHandle.WaiterEntry waiter = null;
        boolean mayHaveParked = false;
        if (c != null) {
            waiter = new CancelHandle.WaiterEntry(c, Thread.currentThread());
            // The first listener of a context arms its deadline timer under the shared scheduler's
            // lock, which can park this thread and use up an unpark sent to it meanwhile (the
            // waiter's own, or a waker's such as a bulkhead's release): parking after that would
            // sleep until wakeAt. So after such a listen this call does not park but reports WOKEN,
            // and the caller re-checks its condition and waits again, on a context now wired.
            mayHaveParked = !c.wired();
            c.listen(waiter);
        }
        try {
            if (!mayHaveParked) {
                long until = wakeAt;
                if (c != null && c.deadlineTicker() == ticker && c.deadlineNanos() - wakeAt < 0) {
                    // wakes at the deadline by itself, not only when the deadline's timer hands it
                    // on (its threads may be late, or busy with callbacks run inline)
                    until = c.deadlineNanos();
                }
                Timers.parkUntil(ticker, until, ticker.read(), this);
            }
        } finally {
            if (waiter != null) {
                waiter.remove();
            }
        }
        early = check(c, ticker, wakeAt);
        return early != null ? early : WaitResult.WOKEN;
    }

    /**
     * Waits until {@code ticker} reads {@code wakeAt}, the context is done, or the thread is
     * interrupted; like {@link #parkUntil} but never returns {@link WaitResult#WOKEN}.
     */
    public WaitResult waitUntil(Ticker ticker, long wakeAt) {
        WaitResult r;
        do {
            r = parkUntil(ticker, wakeAt);
        } while (r == WaitResult.WOKEN);
        return r;
    }

    /**
     * Waits until {@code ticker} reads {@code wakeAt}, as {@link #waitUntil} does, and reports every
     * other ending as an exception: the shape blocking operations want (a limiter's wait, a retry's
     * backoff).
     *
     * @throws InterruptedException if the thread is interrupted (its interrupt status is cleared)
     * @throws ContextDoneException if the context is cancelled or its deadline passes first
     */
    public void sleepUntil(Ticker ticker, long wakeAt) throws InterruptedException {
        WaitResult r = waitUntil(ticker, wakeAt);
        if (r == WaitResult.INTERRUPTED) {
            Thread.interrupted();
            throw new InterruptedException("interrupted while waiting");
        }
        if (r != WaitResult.ELAPSED) {
            throwIfDone();
        }
    }

    private static WaitResult check(CancelHandle c, Ticker ticker, long wakeAt) {
        if (c != null && c.isDone()) {
            return c.err() instanceof DeadlineExceededException ? WaitResult.DEADLINE_EXCEEDED : WaitResult.CANCELLED;
        }
        if (Thread.currentThread().isInterrupted()) {
            return WaitResult.INTERRUPTED;
        }
        if (ticker.read() - wakeAt >= 0) {
            return WaitResult.ELAPSED;
        }
        return null;
    }

    // ---------------------------------------------------------------- propagation

    /** A runnable that runs {@code task} with this context attached. */
    public Runnable wrap(Runnable task) {
        Objects.requireNonNull(task, "task");
        return new dev.resilience.context.internal.AttachedTask(this, task);
    }

    /** A callable that calls {@code task} with this context attached. */
    public <V> Callable<V> wrap(Callable<V> task) {
        Objects.requireNonNull(task, "task");
        return () -> {
            try (Scope ignored = attach()) {
                return task.call();
            }
        };
    }

    @Override
    public String toString() {
        if (this == BACKGROUND) {
            return "Context.background";
        }
        StringBuilder sb = new StringBuilder("Context[");
        if (key != null) {
            sb.append(key.name).append('=').append(value).append(", ");
        }
        if (isDone()) {
            sb.append("done: ").append(err().getMessage());
        } else if (cancel != null && cancel.hasDeadline()) {
            sb.append("deadline in ").append(remainingNanos()).append("ns");
        } else {
            sb.append(cancel == null ? "not cancellable" : "cancellable");
        }
        return sb.append(']').toString();
    }

    /**
     * A typed key for {@link #withValue}. Keys compare by identity: keep them in constants, so only
     * code that can see the constant can read or shadow the value.
     *
     * @param <T> the type of the value
     */
    public static final class Key<T> {
        private final String name;
        private final T defaultValue;

        private Key(String name, T defaultValue) {
            this.name = Objects.requireNonNull(name, "name");
            this.defaultValue = defaultValue;
        }

        /** A key whose value is null where no context sets it. */
        public static <T> Key<T> named(String name) {
            return new Key<>(name, null);
        }

        /** A key whose value is {@code defaultValue} where no context sets it. */
        public static <T> Key<T> withDefault(String name, T defaultValue) {
            return new Key<>(name, defaultValue);
        }

        /** The value in {@link Context#current()}. */
        public T get() {
            return current().get(this);
        }

        /** The key's name, for debugging only. */
        public String name() {
            return name;
        }

        @Override
        public String toString() {
            return "Key[" + name + "]";
        }
    }

    /** The per-thread holder of the current context; one thread-local lookup per attach. */
    static final class Slot {
        final Thread owner = Thread.currentThread();
        /**
         * The attached context; null stands for {@link #background()} (read it through
         * {@link #current()}). Closing the outermost scope then stores null, which G1's post-write
         * barrier skips (a non-null context stored into this long-lived holder costs a StoreLoad
         * fence); gRPC's context storage does the same.
         */
        Context current;
        /** How many scopes are open. */
        int depth;
        /** Numbers each attach, so that a scope is told from a newer one at the same depth. */
        long attaches;
        /**
         * The number of the innermost open scope, 0 if none: a close in order (the common case)
         * compares its own number with this one field and reads nothing else of the slot.
         */
        long top;
        /** By depth: the number of the open scope there (a scope unwound earlier has another). */
        long[] ids = new long[8];
        /**
         * By depth: the open scope's interrupt registration, withdrawn if it is unwound. Null at every
         * level above {@link #depth} (a close clears its own level and each one it unwinds), so a plain
         * attach has nothing to write.
         */
        CancelHandle.InterruptEntry[] interrupts = new CancelHandle.InterruptEntry[8];

        /** The attached context, or the background context if none is. */
        Context current() {
            Context c = current;
            return c == null ? BACKGROUND : c;
        }

        /**
         * Attaches {@code context} one level deeper. Only numbers are kept per level (and an
         * interruptible scope's registration), never the scopes or their contexts: a scope leaked
         * without a close holds no memory beyond them.
         */
        Scope push(Context context, CancelHandle.InterruptEntry interrupt) {
            Context previous = current; // as held: null for the background, restored so on close
            current = context == BACKGROUND ? null : context;
            int d = ++depth;
            if (d >= ids.length) {
                ids = java.util.Arrays.copyOf(ids, d * 2);
                interrupts = java.util.Arrays.copyOf(interrupts, d * 2);
            }
            long id = ++attaches;
            ids[d] = id;
            long parent = top;
            top = id;
            if (interrupt != null) { // the level is null already: see interrupts
                interrupts[d] = interrupt;
            }
            return new Scope(this, previous, d, id, parent, interrupt != null);
        }
    }
}
