package dev.resilience.context;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;

/**
 * The right to cancel one {@link Context}: what Go's {@code context.WithCancel} returns as its
 * {@code cancel} function, kept apart from the context itself so that code which merely runs under a
 * context (it sees {@link Context#current()}) cannot cancel it.
 *
 * <pre>{@code
 * try (CancelHandle call = Context.current().withTimeout(Duration.ofMillis(250));
 *      Scope scope = call.attach()) {
 *     return client.send(request);        // sees the deadline through Context.current()
 * }                                        // close() cancels: the context never outlives the call
 * }</pre>
 *
 * <p>Cancelling is idempotent and keeps the first cause. It cancels every descendant, never an
 * ancestor, and detaches the context from its parent so long-lived parents do not accumulate dead
 * children. Always cancel (or close) a handle once its work is over, as in Go. Trees of any depth
 * and width are linked, cancelled and notified iteratively: no stack grows with the tree.
 */
public final class CancelHandle implements AutoCloseable {

    private static final Object DEAD = new Object();

    private static final VarHandle ERR;
    private static final VarHandle LISTENERS;
    private static final VarHandle LINK;
    private static final VarHandle TIMER;
    private static final VarHandle REMOVED;
    private static final VarHandle ADDED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            ERR = l.findVarHandle(CancelHandle.class, "err", ContextDoneException.class);
            LISTENERS = l.findVarHandle(CancelHandle.class, "listeners", Object.class);
            LINK = l.findVarHandle(CancelHandle.class, "link", Object.class);
            TIMER = l.findVarHandle(CancelHandle.class, "timer", Object.class);
            REMOVED = l.findVarHandle(CancelHandle.class, "removedCount", int.class);
            ADDED = l.findVarHandle(CancelHandle.class, "addedCount", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Compaction of the listener list starts once this many entries were withdrawn. */
    private static final int COMPACT_THRESHOLD = 16;

    final Context context;
    /** Nearest cancellable ancestor, or null. */
    private final CancelHandle parent;
    /** The node whose own deadline is the effective one (this, an ancestor, or null). */
    private final CancelHandle deadlineOwner;
    /** Own deadline's ticker; set only where {@code deadlineOwner == this}. */
    private final Ticker ticker;
    private final long deadline;
    /** What the own deadline's expiry reports: {@link DeadlineExceededException}, with the cause given to withDeadlineCause. */
    private final DeadlineExceededException deadlineError;

    private volatile ContextDoneException err;
    /** null or the head {@link Cell} of the listener stack. */
    private volatile Object listeners;
    private volatile int removedCount;
    private volatile int addedCount;
    /** null, this node's entry in its parent's listeners, or {@link #DEAD}. */
    private volatile Object link;
    /** null, the armed {@link Timers.Task}, or {@link #DEAD}. */
    private volatile Object timer;

    CancelHandle(Context parentContext, Ticker ticker, long deadline, boolean hasDeadline) {
        this(parentContext, ticker, deadline, hasDeadline, null);
    }

    /**
     * @param deadlineCause reported by {@link Context#cause()} when the own deadline is exceeded
     *     (Go's {@code WithDeadlineCause}); null for none
     */
    CancelHandle(Context parentContext, Ticker ticker, long deadline, boolean hasDeadline, Throwable deadlineCause) {
        CancelHandle p = parentContext.cancel;
        this.parent = p;
        CancelHandle inherited = p == null ? null : p.deadlineOwner;
        if (hasDeadline && (inherited == null || earlier(ticker, deadline, inherited))) {
            this.deadlineOwner = this;
            this.ticker = ticker;
            this.deadline = deadline;
        } else {
            this.deadlineOwner = inherited;
            this.ticker = null;
            this.deadline = 0L;
        }
        this.deadlineError = deadlineCause == null ? DeadlineExceededException.INSTANCE
                : new DeadlineExceededException(deadlineCause, false);
        this.context = new Context(parentContext, this);
    }

    /**
     * Makes a context that is done from the start with its deadline exceeded (Go: a deadline that
     * has already passed); used when the timeout is not positive, which needs no clock to decide.
     */
    void expireNow() {
        for (CancelHandle p = parent; p != null; p = p.parent) {
            ContextDoneException first = p.err;
            if (first != null) {
                finish(first); // Go: a done parent reaches the child before its own deadline check
                return;
            }
        }
        finish(deadlineError);
    }

    private static boolean earlier(Ticker ticker, long deadline, CancelHandle other) {
        if (ticker == other.ticker) {
            return deadline - other.deadline < 0;
        }
        return deadline - ticker.read() < other.deadline - other.ticker.read();
    }

    /** The context this handle cancels. */
    public Context context() {
        return context;
    }

    /** Shorthand for {@code context().attach()}. */
    public Scope attach() {
        return context.attach();
    }

    /** Cancels the context without a cause; Go's {@code cancel()}. Idempotent. */
    public void cancel() {
        cancelWith(ContextCancelledException.NO_CAUSE);
    }

    /**
     * Cancels the context with a cause; Go's {@code WithCancelCause}. If the context is already done
     * the first outcome and cause are kept.
     *
     * @param cause why, reported by {@link Context#cause()}; may be null
     */
    public void cancel(Throwable cause) {
        cancelWith(cause == null ? ContextCancelledException.NO_CAUSE : new ContextCancelledException(cause, false));
    }

    /**
     * Cancelling reads no clock: a deadline that has passed but that nothing has observed yet
     * (no {@code isDone()}, {@code err()}, wait or timer saw it) loses to the cancellation, as the
     * deadline timer can lose the race with {@code cancel} in Go.
     */
    private void cancelWith(ContextCancelledException e) {
        if (err != null) {
            return;
        }
        if (link != null) { // linked: a done ancestor would have reached this context already
            finish(e);
            return;
        }
        // An ancestor done first reached this context first, as in Go, even where nothing linked
        // this context to it yet: adopt its outcome (an observed deadline included). No clock read.
        for (CancelHandle p = parent; p != null; p = p.parent) {
            ContextDoneException first = p.err;
            if (first != null) {
                finish(first);
                return;
            }
        }
        finish(e);
    }

    /** Cancels the context: lets a handle live in a try-with-resources block. */
    @Override
    public void close() {
        cancel();
    }

    @Override
    public String toString() {
        return "CancelHandle[" + context + "]";
    }

    // ---------------------------------------------------------------- state, read by Context

    boolean isDone() {
        return err != null || poll();
    }

    ContextDoneException err() {
        return isDone() ? err : null;
    }

    Optional<Deadline> deadline() {
        CancelHandle o = deadlineOwner;
        return o == null ? Optional.empty() : Optional.of(Deadline.unchecked(o.deadline, o.ticker));
    }

    long remainingNanos() {
        CancelHandle o = deadlineOwner;
        return o == null ? Long.MAX_VALUE : Math.max(0L, o.deadline - o.ticker.read());
    }

    boolean hasDeadline() {
        return deadlineOwner != null;
    }

    /** Ticker of the effective deadline, or null. */
    Ticker deadlineTicker() {
        CancelHandle o = deadlineOwner;
        return o == null ? null : o.ticker;
    }

    /** The effective deadline, a reading of {@link #deadlineTicker()}; 0 without one. */
    long deadlineNanos() {
        CancelHandle o = deadlineOwner;
        return o == null ? 0 : o.deadline;
    }

    /**
     * Pull side of cancellation: discovers an expired deadline (one clock read, only if there is a
     * deadline) or a cancelled ancestor, and adopts it.
     */
    private boolean poll() {
        CancelHandle o = deadlineOwner;
        if (o != null && o.err == null && o.ticker.read() - o.deadline >= 0) {
            o.finish(o.deadlineError);
        }
        for (CancelHandle p = this; p != null; p = p.parent) {
            ContextDoneException e = p.err;
            if (e != null) {
                if (p != this) {
                    finish(e);
                }
                return true;
            }
        }
        return false;
    }

    /**
     * Makes this node done with {@code e} unless it already is; returns whether this call did it.
     * Without listeners this is one CAS and three plain volatile reads: whoever arms a timer, links
     * to the parent or adds a listener re-checks {@code err} afterwards and cleans up after itself.
     */
    boolean finish(ContextDoneException e) {
        if (!ERR.compareAndSet(this, null, e)) {
            return false;
        }
        // The tree below is walked with a queue, not the stack: descendants this call made done
        // wait in it until their own timers, links and listeners are dealt with.
        ArrayDeque<CancelHandle> descendants = tearDown(e, null);
        CancelHandle next;
        while (descendants != null && (next = descendants.poll()) != null) {
            descendants = next.tearDown(e, descendants);
        }
        return true;
    }

    /**
     * After this node became done: disarms its timer, unlinks it from its parent and fires its
     * listeners; children it makes done are added to {@code descendants} (made when first needed).
     */
    private ArrayDeque<CancelHandle> tearDown(ContextDoneException e, ArrayDeque<CancelHandle> descendants) {
        if (timer != null) {
            Object t = TIMER.getAndSet(this, DEAD);
            if (t instanceof Timers.Task) {
                ((Timers.Task) t).cancel();
            }
        }
        if (link != null) {
            Object l = LINK.getAndSet(this, DEAD);
            if (l instanceof Entry) {
                parent.withdraw((Entry) l);
            }
        }
        Object h = LISTENERS.getAndSet(this, null); // a done context keeps no listeners
        if (h != null) {
            descendants = fireAll((Cell) h, e, descendants);
        }
        return descendants;
    }

    /** Fires entries in registration order; children made done are queued instead of recursed into. */
    private static ArrayDeque<CancelHandle> fireAll(Cell head, ContextDoneException e,
            ArrayDeque<CancelHandle> descendants) {
        int n = 0;
        for (Cell c = head; c != null; c = c.next) {
            n++;
        }
        Entry[] inOrder = new Entry[n];
        for (Cell c = head; c != null; c = c.next) {
            inOrder[--n] = c.entry;
        }
        for (Entry entry : inOrder) {
            if (!entry.claim(Entry.FIRED)) {
                continue;
            }
            if (entry instanceof ChildEntry) {
                CancelHandle child = ((ChildEntry) entry).child;
                if (ERR.compareAndSet(child, null, e)) {
                    if (descendants == null) {
                        descendants = new ArrayDeque<>();
                    }
                    descendants.add(child);
                }
            } else {
                try {
                    entry.fire(e);
                } catch (Throwable t) {
                    uncaught(t); // one failing entry must not stop the others, nor the tree below
                }
            }
        }
        return descendants;
    }

    private static void uncaught(Throwable t) {
        try {
            Thread self = Thread.currentThread();
            self.getUncaughtExceptionHandler().uncaughtException(self, t);
        } catch (Throwable ignored) {
            // nowhere left to report it
        }
    }

    // ---------------------------------------------------------------- listeners (push side)

    /**
     * Whether {@link #listen} will only push the entry: this node's deadline timer (if it owns one)
     * is armed and its link to its parent (if it has one) made, so listening takes no lock. The
     * first listen of a node arms its timer on the shared scheduler, whose lock may park the
     * listening thread and so swallow an unpark meant for it (see {@link Context#parkUntil}).
     */
    boolean wired() {
        return (deadlineOwner != this || timer != null) && (parent == null || link != null);
    }

    /**
     * Adds a listener; if the context is already done it fires at once on this thread. Adding the
     * first listener wires the node up: it links to its parent and arms its deadline timer.
     */
    void listen(Entry entry) {
        // Walks up the ancestors iteratively: each node that gets its first listener links itself
        // to its parent with a ChildEntry, which is in turn the parent's new listener.
        CancelHandle node = this;
        Entry toAdd = entry;
        for (;;) {
            ChildEntry link = node.add(toAdd);
            if (toAdd instanceof ChildEntry && ((ChildEntry) toAdd).child.err != null) {
                node.withdraw(toAdd); // the child finished meanwhile: do not keep it here
            }
            if (link == null) {
                return;
            }
            toAdd = link;
            node = node.parent;
        }
    }

    /**
     * Adds one listener to this node (firing it at once if the node is done) and arms the node's
     * timer; returns the node's link to its parent if this call created it, for the caller to add.
     */
    private ChildEntry add(Entry entry) {
        if (err == null) {
            Cell cell = new Cell(entry);
            for (;;) {
                Object h = listeners;
                cell.next = (Cell) h;
                if (LISTENERS.compareAndSet(this, h, cell)) {
                    break;
                }
            }
            ADDED.getAndAdd(this, 1);
            if (err == null) {
                armTimer();
                if (parent != null && link == null) {
                    ChildEntry child = new ChildEntry(this);
                    if (LINK.compareAndSet(this, null, child)) {
                        return child;
                    }
                }
                return null;
            }
            // finish() may have read the list before the push: fire what it may have missed, and
            // drop the list as finish() does (a done context keeps no listeners).
            Object h = LISTENERS.getAndSet(this, null);
            if (h != null) {
                finishAll(fireAll((Cell) h, err, null), err);
            }
        }
        if (entry.claim(Entry.FIRED)) {
            entry.fire(err);
        }
        return null;
    }

    /** Tears down descendants that {@link #fireAll} made done outside {@link #finish}. */
    private static void finishAll(ArrayDeque<CancelHandle> descendants, ContextDoneException e) {
        CancelHandle next;
        while (descendants != null && (next = descendants.poll()) != null) {
            descendants = next.tearDown(e, descendants);
        }
    }

    /** Arms the own deadline's timer at most once; undoes it if done meanwhile. */
    private void armTimer() {
        if (deadlineOwner == this && timer == null) {
            Timers.Task t = Timers.schedule(ticker, deadline, this::onDeadline);
            if (!TIMER.compareAndSet(this, null, t) || err != null) {
                t.cancel();
            }
        }
    }

    /**
     * The deadline timer fired. Off the timer thread, the whole propagation runs on one thread of
     * the deadline executor, so inline callbacks keep their order and the timer thread goes on.
     */
    private void onDeadline(boolean onTimerThread) {
        if (onTimerThread) {
            Timers.DEADLINE_EXECUTOR.execute(() -> finish(deadlineError));
        } else {
            finish(deadlineError);
        }
    }

    /** Withdraws an entry; true if it had not fired. Compacts the list when many were withdrawn. */
    boolean withdraw(Entry entry) {
        if (!entry.claim(Entry.REMOVED)) {
            return false;
        }
        int removed = (int) REMOVED.getAndAdd(this, 1) + 1;
        if (removed >= COMPACT_THRESHOLD && 2 * removed >= addedCount) {
            compact();
        }
        return true;
    }

    /** Rebuilds the listener stack without withdrawn entries; gives up quietly if it races. */
    private void compact() {
        if (err != null) {
            return; // done: the list is dropped, not compacted
        }
        Object h = listeners;
        if (!(h instanceof Cell)) {
            return;
        }
        Cell first = null;
        Cell last = null;
        int skipped = 0;
        for (Cell c = (Cell) h; c != null; c = c.next) {
            if (c.entry.state == Entry.REMOVED) {
                skipped++;
                continue;
            }
            Cell copy = new Cell(c.entry);
            if (last == null) {
                first = copy;
            } else {
                last.next = copy;
            }
            last = copy;
        }
        if (skipped > 0 && LISTENERS.compareAndSet(this, h, first)) {
            REMOVED.getAndAdd(this, -skipped);
            ADDED.getAndAdd(this, -skipped);
        }
    }

    /** Entries currently in the listener list, withdrawn or not; for leak tests. */
    int listenerCellCount() {
        Object h = listeners;
        int n = 0;
        if (h instanceof Cell) {
            for (Cell c = (Cell) h; c != null; c = c.next) {
                n++;
            }
        }
        return n;
    }

    /** True if a timer is armed for this node; for leak tests. */
    boolean timerArmed() {
        return timer instanceof Timers.Task;
    }

    /** One link of the immutable-once-published listener stack. */
    private static final class Cell {
        final Entry entry;
        Cell next;

        Cell(Entry entry) {
            this.entry = entry;
        }
    }

    /** A listener: a child to cancel, a callback, a parked thread, a thread to interrupt. */
    abstract static class Entry implements Registration {
        static final int ACTIVE = 0;
        static final int FIRED = 1;
        static final int REMOVED = 2;
        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Entry.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final CancelHandle owner;
        volatile int state;

        Entry(CancelHandle owner) {
            this.owner = owner;
        }

        final boolean claim(int to) {
            return STATE.compareAndSet(this, ACTIVE, to);
        }

        @Override
        public final boolean remove() {
            return owner.withdraw(this);
        }

        abstract void fire(ContextDoneException e);
    }

    private static final class ChildEntry extends Entry {
        private final CancelHandle child;

        ChildEntry(CancelHandle child) {
            super(child.parent);
            this.child = child;
        }

        @Override
        void fire(ContextDoneException e) {
            child.finish(e); // a listener added to a done context; propagation queues children instead
        }
    }

    /**
     * A user callback, run through its executor: by default {@link Timers#CALLBACK_EXECUTOR}, so a
     * slow callback delays neither the canceller nor the other callbacks; {@code Runnable::run}
     * runs it on the finishing thread, which is never the timer thread (see {@link #onDeadline}).
     */
    static final class CallbackEntry extends Entry {
        private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<CallbackEntry> RAN =
                java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(CallbackEntry.class, "ran");
        private final Runnable callback;
        private final Executor executor;
        /**
         * 1 once the callback started: an executor that accepted the task and then threw (a pool that
         * queued it and could not start a thread) must not make the fallback run it a second time.
         */
        private volatile int ran;

        CallbackEntry(CancelHandle owner, Runnable callback, Executor executor) {
            super(owner);
            this.callback = callback;
            this.executor = executor;
        }

        @Override
        void fire(ContextDoneException e) {
            try {
                executor.execute(this::runCallback);
            } catch (Throwable refused) { // rejected, or the executor failed: the callback still runs
                try {
                    Timers.CALLBACK_EXECUTOR.execute(this::runCallback);
                } catch (Throwable noThread) {
                    runCallback();
                }
            }
        }

        private void runCallback() {
            if (!RAN.compareAndSet(this, 0, 1)) {
                return;
            }
            try {
                callback.run();
            } catch (Throwable t) {
                Thread self = Thread.currentThread();
                self.getUncaughtExceptionHandler().uncaughtException(self, t);
            }
        }
    }

    /** Wakes a thread parked in {@link Context#parkUntil}. */
    static final class WaiterEntry extends Entry {
        private final Thread thread;

        WaiterEntry(CancelHandle owner, Thread thread) {
            super(owner);
            this.thread = thread;
        }

        @Override
        void fire(ContextDoneException e) {
            LockSupport.unpark(thread);
        }
    }

    /** Interrupts the thread of a {@link Context#attachInterruptibly()} scope. */
    static final class InterruptEntry extends Entry {
        private final Thread thread;
        /** The thread's own interrupt, pending when the scope opened: closing the scope keeps it. */
        private final boolean interruptedBefore;
        private volatile boolean delivered;

        InterruptEntry(CancelHandle owner, Thread thread) {
            super(owner);
            this.thread = thread;
            this.interruptedBefore = thread.isInterrupted(); // made on the attaching thread
        }

        @Override
        void fire(ContextDoneException e) {
            thread.interrupt();
            delivered = true;
        }

        /**
         * Ends the registration when the scope closes. If the interrupt was (or is being) delivered,
         * waits for it to land and clears it, so it cannot leak into unrelated work on this thread.
         */
        void close() {
            if (!remove() && state == FIRED) {
                while (!delivered) {
                    Thread.onSpinWait();
                }
                if (!interruptedBefore) {
                    Thread.interrupted(); // ours: cleared; one the thread had before the scope is its own and stays
                }
            }
        }
    }
}
