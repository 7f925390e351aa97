package dev.resilience.pool;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Listeners;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A pool of expensive objects (connections, clients, sessions) between a minimum of idle ones and a
 * maximum size, made and destroyed by an {@link Allocator} on a background thread.
 *
 * <pre>{@code
 * ObjectPool<Connection> pool = ObjectPool.builder(connections)
 *         .maxSize(20).minIdle(5)
 *         .maxLifetime(Duration.ofMinutes(30)).idleTimeout(Duration.ofMinutes(5))
 *         .validateOnBorrow(true)
 *         .build();
 * try (Lease<Connection> lease = pool.borrow()) {       // waits at most 30 s, or the context's deadline
 *     lease.get().execute(sql);
 * }
 * pool.close();                                          // waits for leases, destroys everything
 * }</pre>
 *
 * <p><b>Borrowing.</b> {@link #borrow()} takes an idle object, or waits (parking) until one is
 * returned or made, at most the borrow timeout (default 30 s, never forever by default) and never past
 * the current {@link Context}'s deadline or cancellation. {@link #tryBorrow()} never waits and returns
 * null when nothing is idle. A thread that returns an object and borrows again gets the same object
 * back with one compare-and-set (a per-thread hint, as Stormpot does), which is the fast path: no
 * lock, no allocation, no clock read.
 *
 * <p><b>Background thread.</b> One daemon thread per pool allocates objects (keeping at least
 * {@code minIdle} idle and making one for each waiting borrower while below {@code maxSize}),
 * destroys dead ones, and every {@code maintenanceInterval} (default 1 s) sweeps: it destroys idle
 * objects past their maximum lifetime or idle timeout (keeping {@code minIdle}), validates idle
 * objects if periodic validation is on, marks borrowed objects past their lifetime so they are
 * destroyed when returned, and reports suspected leaks. Lifetime and idle times are therefore
 * enforced with the precision of the maintenance interval, measured on the pool's {@link Ticker}.
 *
 * <p><b>Size.</b> The allocator never has more than {@code maxSize} objects alive at once: an object
 * counts from the moment {@code allocate} is called until {@code deallocate} has returned, so a
 * replacement for an invalidated object is made only once the old one is gone.
 *
 * <p><b>Failures.</b> An allocator exception is handed to one borrower as a {@link PoolException}
 * (its cause) and the pool tries again: the next allocation happens when a borrower waits again or
 * at the next sweep. A failing allocator never wedges the pool; when it recovers, so does the pool.
 * A validation that throws counts as invalid; a deallocation that throws is logged; a listener that
 * throws is logged and ignored.
 *
 * <p><b>Leaks.</b> With {@link Builder#leakDetection(Duration)} the pool records where each lease was
 * borrowed (a stack trace: use it in tests and staging, it costs a few microseconds a borrow) and
 * reports leases held longer than the threshold to the listener and as a warning through
 * {@link System.Logger}.
 *
 * <p><b>Closing.</b> {@link #close()} refuses new borrows (they throw {@link IllegalStateException}),
 * wakes waiting borrowers, destroys idle objects, destroys the borrowed ones as they are returned, and
 * waits for all of that under the current context.
 *
 * @param <T> the type of the pooled objects
 */
public final class ObjectPool<T> implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ObjectPool.class.getName());

    static final int IDLE = 0;
    static final int CLAIMED = 1;
    /** Borrowed through the per-thread hint while its entry is still in the idle queue. */
    static final int CLAIMED_QUEUED = 2;
    static final int DEAD = 3;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ObjectPool.Slot.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The largest {@code maxSize} a pool takes: 2^20 (see {@link Builder#maxSize}). */
    public static final int MAX_SIZE = 1 << 20;

    private final String name;
    private final Allocator<T> allocator;
    private final int minIdle;
    private final int maxSize;
    private final long maxLifetimeNanos;
    private final long idleTimeoutNanos;
    private final long borrowTimeoutNanos;
    private final long maintenanceNanos;
    private final long validateIdleNanos;
    private final long leakThresholdNanos;
    private final boolean validateOnBorrow;
    private final Ticker ticker;
    private final Listeners<PoolListener> listeners;

    /** Idle slots, plus entries of slots borrowed through the hint and of dead ones, which pollers skip. */
    private final MpmcArrayQueue<Slot> idle;
    private final WaitList borrowers = new WaitList();
    private final WaitList closers = new WaitList();
    private final ThreadLocal<Hint> hints = ThreadLocal.withInitial(Hint::new);
    private final Set<Slot> live = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Slot> toDestroy = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Slot> overflow = new ConcurrentLinkedQueue<>();
    /**
     * Objects the allocator has alive: counted from before {@code allocate} until after
     * {@code deallocate} (dead slots waiting for destruction included), plus slots carrying an
     * allocation error until they are consumed. Only the background thread increments it.
     */
    private final AtomicInteger allocated = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final LongAdder allocationFailures = new LongAdder();
    private final LongAdder leaksDetected = new LongAdder();
    private final Thread background;
    private volatile boolean closed;
    private volatile boolean terminated;
    /** Completed sweeps; lets tests wait for one. */
    private volatile long sweeps;

    private ObjectPool(Builder<T> b) {
        this.name = b.name;
        this.allocator = b.allocator;
        this.minIdle = b.minIdle;
        this.maxSize = b.maxSize;
        this.maxLifetimeNanos = b.maxLifetimeNanos;
        this.idleTimeoutNanos = b.idleTimeoutNanos;
        this.borrowTimeoutNanos = b.borrowTimeoutNanos;
        this.maintenanceNanos = b.maintenanceNanos;
        this.validateIdleNanos = b.validateIdleNanos;
        this.leakThresholdNanos = b.leakThresholdNanos;
        this.validateOnBorrow = b.validateOnBorrow;
        this.ticker = b.ticker;
        this.listeners = new Listeners<>(PoolListener.NOOP, members -> PoolListener.NOOP, b.listeners);
        this.idle = new MpmcArrayQueue<>(Math.max(2, 2 * maxSize));
        this.background = b.threadFactory.newThread(this::runBackground);
        if (background == null) {
            throw new IllegalStateException("pool " + name + ": the thread factory returned null");
        }
        background.setDaemon(true);
        background.start();
    }

    /** Starts a pool whose objects come from {@code allocator}. */
    public static <T> Builder<T> builder(Allocator<T> allocator) {
        return new Builder<>(allocator);
    }

    // ------------------------------------------------------------------ borrowing

    /**
     * An idle object if there is one now, else null. Never waits; throws only if the pool is closed
     * or the object it found carries an allocation error ({@link PoolException}).
     */
    public Lease<T> tryBorrow() {
        if (closed) {
            throw new IllegalStateException("pool " + name + " is closed");
        }
        Hint hint = hints.get();
        Slot s = hint.slot;
        if (s != null && (int) STATE.getAcquire(s) == IDLE && STATE.compareAndSet(s, IDLE, CLAIMED_QUEUED)) {
            Lease<T> lease = admit(s);
            if (lease != null) {
                return lease;
            }
        }
        for (;;) {
            s = pollIdle();
            if (s == null) {
                return null;
            }
            Lease<T> lease = admit(s);
            if (lease != null) {
                hint.slot = s;
                if (minIdle > 0 && idle.size() < minIdle) {
                    LockSupport.unpark(background); // below minIdle: make more in the background
                }
                return lease;
            }
        }
    }

    /**
     * Borrows an object, waiting up to the borrow timeout and never past the current context's end.
     *
     * @throws PoolTimeoutException if the borrow timeout passes first
     * @throws PoolException if the allocator failed (the cause)
     * @throws dev.resilience.context.ContextDoneException if the context ends first
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalStateException if the pool is closed
     */
    public Lease<T> borrow() throws InterruptedException {
        return borrowWithin(borrowTimeoutNanos);
    }

    /** Like {@link #borrow()} with its own timeout instead of the pool's borrow timeout. */
    public Lease<T> borrow(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        return borrowWithin(WaitList.saturatedNanos(timeout));
    }

    private Lease<T> borrowWithin(long timeoutNanos) throws InterruptedException {
        Lease<T> lease = tryBorrow();
        if (lease != null) {
            return lease;
        }
        long start = ticker.read();
        long until = WaitList.until(start, timeoutNanos);
        waiting.incrementAndGet();
        LockSupport.unpark(background);
        List<Lease<T>> got = new ArrayList<>(1);
        // whether this borrower counts in `waiting` now: not while it looks at the queue, so the
        // background thread never sees it as demand after it has taken an object (which would make
        // a surplus one); a look that finds nothing counts it again and wakes the background thread
        boolean[] counted = {true};
        try {
            boolean ok = borrowers.await(ticker, until, () -> {
                waiting.decrementAndGet();
                counted[0] = false;
                Lease<T> l = tryBorrow();
                if (l != null) {
                    got.add(l);
                    return true;
                }
                waiting.incrementAndGet();
                counted[0] = true;
                LockSupport.unpark(background);
                return false;
            });
            if (!ok) {
                throw new PoolTimeoutException("no object of pool " + name + " became available within "
                        + Duration.ofNanos(timeoutNanos));
            }
            long waited = ticker.read() - start;
            tellListener(l -> l.onBorrowWaited(this, waited), "onBorrowWaited");
            return got.get(0);
        } catch (PoolTimeoutException | ContextDoneException | InterruptedException gaveUp) {
            long waited = ticker.read() - start;
            tellListener(l -> l.onBorrowTimedOut(this, waited), "onBorrowTimedOut");
            throw gaveUp;
        } finally {
            if (counted[0]) {
                waiting.decrementAndGet();
            }
            if (!idle.isEmpty()) {
                borrowers.wakeOne(); // pass on a wake-up this thread may have taken
            }
        }
    }

    /**
     * Takes the next idle slot off the queue and claims it; skips entries of slots that were
     * borrowed through their hint (turning them into plain borrowed slots, whose return re-queues
     * them) and of dead slots. Null when the queue is empty.
     */
    private Slot pollIdle() {
        for (;;) {
            Slot s = idle.poll();
            if (s == null) {
                return null;
            }
            for (;;) {
                int state = (int) STATE.getAcquire(s);
                if (state == IDLE) {
                    if (STATE.compareAndSet(s, IDLE, CLAIMED)) {
                        return s;
                    }
                } else if (state == CLAIMED_QUEUED) {
                    if (STATE.compareAndSet(s, CLAIMED_QUEUED, CLAIMED)) {
                        break;
                    }
                } else {
                    break;
                }
            }
        }
    }

    /** A slot just claimed becomes a lease, or is destroyed (null) if it cannot be lent. */
    private Lease<T> admit(Slot s) {
        if (s.error != null) {
            kill(s, null);
            LockSupport.unpark(background);
            throw new PoolException("pool " + name + " could not allocate an object", s.error);
        }
        if (s.expired || closed) {
            kill(s, closed ? PoolListener.DestroyReason.CLOSED : PoolListener.DestroyReason.EXPIRED);
            return null;
        }
        if (validateOnBorrow && !valid(s)) {
            kill(s, PoolListener.DestroyReason.INVALID);
            return null;
        }
        s.touched = true;
        if (leakThresholdNanos > 0) {
            s.borrowedAt = ticker.read();
            s.borrowedWhere = new Throwable("borrowed from pool " + name + " here");
            s.leakReported = false;
        }
        return s;
    }

    private boolean valid(Slot s) {
        try {
            return allocator.validate(s.object);
        } catch (Throwable e) {
            log(System.Logger.Level.WARNING, "validate threw; the object counts as invalid", e);
            return false;
        }
    }

    /** Tells every listener in turn; what one throws is logged and goes no further. */
    private void tellListener(java.util.function.Consumer<PoolListener> event, String method) {
        listeners.forEach(event, (l, e) -> log(System.Logger.Level.ERROR, "listener." + method + " threw", e));
    }

    /**
     * Adds a listener of this pool's events, beside those given to the builder (as a metrics binder
     * does); events already in flight may miss it.
     *
     * @param listener the listener; what it throws is logged and changes nothing
     * @return removes the listener again
     */
    public Registration addListener(PoolListener listener) {
        return listeners.add(listener);
    }

    private void log(System.Logger.Level level, String message, Throwable e) {
        try {
            LOG.log(level, "pool " + name + ": " + message, e);
        } catch (Throwable ignored) {
            // logging itself failed: nothing left to tell
        }
    }

    // ------------------------------------------------------------------ returning

    private void release(Slot s, boolean invalidate) {
        int state = (int) STATE.getAcquire(s);
        if (state == DEAD && !invalidate && s.reason == PoolListener.DestroyReason.INVALIDATED) {
            return; // close() after invalidate(), as try-with-resources does: a dead slot is never lent again
        }
        if (state != CLAIMED && state != CLAIMED_QUEUED) {
            throw new IllegalStateException("lease already ended");
        }
        if (leakThresholdNanos > 0) {
            s.borrowedWhere = null;
        }
        if (invalidate || closed || s.expired) {
            kill(s, invalidate ? PoolListener.DestroyReason.INVALIDATED
                    : closed ? PoolListener.DestroyReason.CLOSED : PoolListener.DestroyReason.EXPIRED);
            LockSupport.unpark(background);
            return;
        }
        if (state == CLAIMED_QUEUED && STATE.compareAndSet(s, CLAIMED_QUEUED, IDLE)) {
            return; // its entry is still in the queue
        }
        STATE.setRelease(s, IDLE);
        enqueue(s);
    }

    /** Puts an idle slot (not in the queue) into the queue and wakes a borrower. */
    private void enqueue(Slot s) {
        if (!idle.offer(s)) {
            overflow.add(s); // the queue is full of dead entries; the background thread compacts it
            LockSupport.unpark(background);
            return;
        }
        borrowers.wakeOne();
        if (closed) {
            LockSupport.unpark(background); // returned while closing: the background thread destroys it
        }
    }

    /**
     * Marks a slot this thread owns (claimed) dead and hands its object to the background thread for
     * destruction; a null reason means there is no object (an allocation error).
     */
    private void kill(Slot s, PoolListener.DestroyReason reason) {
        s.reason = reason; // before DEAD is published: release() reads it after seeing DEAD
        STATE.setRelease(s, DEAD);
        live.remove(s);
        if (reason != null) {
            toDestroy.add(s); // still counted in `allocated` until deallocate has returned
        } else {
            allocated.decrementAndGet(); // an allocation error: no object to deallocate
        }
        LockSupport.unpark(background);
    }

    // ------------------------------------------------------------------ background

    private static final long MIN_ERROR_PAUSE_NANOS = 1_000_000L;
    private static final long MAX_ERROR_PAUSE_NANOS = 1_000_000_000L;

    private void runBackground() {
        long nextSweep = 0; // set at the loop's first reading, where what the ticker throws is guarded
        boolean sweepScheduled = false;
        boolean minIdleFailed = false;
        long errorPause = 0; // after an unexpected error: how long to pause before the next pass
        while (true) {
            try {
                destroyDead();
                compactIfNeeded();
                if (closed) {
                    drainForClose();
                    if (allocated.get() == 0 && toDestroy.isEmpty()) {
                        break;
                    }
                } else {
                    long now = ticker.read();
                    if (!sweepScheduled) {
                        nextSweep = now + maintenanceNanos;
                        sweepScheduled = true;
                    } else if (now - nextSweep >= 0) {
                        sweep(now);
                        nextSweep = now + maintenanceNanos;
                        minIdleFailed = false;
                    }
                    minIdleFailed = allocateWanted(minIdleFailed);
                    if (closed) {
                        continue; // closed while allocating: drain now (the allocator may have taken close's wake-up)
                    }
                }
                // closed: woken by each object that comes back; the timeout is a safety net against a
                // wake-up taken by user code running on this thread
                Context.background().parkUntil(ticker, closed ? ticker.read() + maintenanceNanos : nextSweep);
                Thread.interrupted();
                errorPause = 0;
            } catch (Throwable unexpected) {
                log(System.Logger.Level.ERROR, "background thread error", unexpected);
                // An error that repeats (a ticker or listener that always throws) must not spin this
                // thread logging at full speed: pause, from 1 ms doubling up to the maintenance
                // interval (at most 1 s, at least 1 ms), by the system clock, as the ticker may be
                // what fails. An unpark (a waiting borrower, close) ends the pause early.
                errorPause = errorPause == 0 ? MIN_ERROR_PAUSE_NANOS
                        : Math.max(MIN_ERROR_PAUSE_NANOS,
                                Math.min(errorPause * 2, Math.min(maintenanceNanos, MAX_ERROR_PAUSE_NANOS)));
                Thread.interrupted(); // a pending interrupt would end every pause at once
                LockSupport.parkNanos(this, errorPause);
            }
        }
        tellListener(l -> l.onClosed(this), "onClosed");
        terminated = true;
        closers.wakeAll();
    }

    /**
     * Allocates while the pool is below {@code minIdle} idle plus one per waiting borrower, and below
     * {@code maxSize}. An allocation error is queued like an object, so exactly one waiter receives
     * it; after an error with nobody waiting, {@code minIdle} is not pursued again until the next
     * sweep, so a failing allocator is retried at the pace of demand.
     *
     * @return whether keeping {@code minIdle} failed (and is suspended until the next sweep)
     */
    private boolean allocateWanted(boolean minIdleFailed) {
        while (!closed) {
            int current = allocated.get();
            int demand = waiting.get();
            int wanted = (minIdleFailed ? 0 : minIdle) + demand - idle.size();
            if (wanted <= 0 || current >= maxSize) {
                return minIdleFailed;
            }
            allocated.incrementAndGet();
            Slot s = new Slot();
            T object = null;
            try {
                object = allocator.allocate();
                if (object == null) {
                    throw new NullPointerException("the allocator returned null");
                }
            } catch (Throwable e) {
                s.error = e;
                allocationFailures.increment();
                Throwable error = e;
                tellListener(l -> l.onAllocationFailed(this, error), "onAllocationFailed");
                if (demand == 0) {
                    minIdleFailed = true;
                }
            }
            if (object != null) {
                s.object = object;
                long now = ticker.read();
                s.createdAt = now;
                s.idleSince = now;
                s.validatedAt = now;
                live.add(s);
                tellListener(l -> l.onAllocated(this), "onAllocated");
            }
            STATE.setRelease(s, IDLE);
            enqueue(s);
        }
        return minIdleFailed;
    }

    private void destroyDead() {
        Slot s;
        while ((s = toDestroy.poll()) != null) {
            destroy(s);
        }
    }

    private void destroy(Slot s) {
        T object = s.object;
        s.object = null;
        try {
            allocator.deallocate(object);
        } catch (Throwable e) {
            log(System.Logger.Level.WARNING, "deallocate failed", e);
        } finally {
            allocated.decrementAndGet(); // the object is gone: room for another
        }
        PoolListener.DestroyReason reason = s.reason;
        tellListener(l -> l.onDestroyed(this, reason), "onDestroyed");
    }

    /** Removes dead entries from the queue when it holds more than it has live slots, and re-queues overflow. */
    private void compactIfNeeded() {
        if (overflow.isEmpty() && idle.size() <= maxSize) {
            return;
        }
        int n = idle.size();
        for (int i = 0; i < n; i++) {
            Slot s = idle.poll();
            if (s == null) {
                break;
            }
            if ((int) STATE.getAcquire(s) != DEAD && !idle.offer(s)) {
                overflow.add(s);
            }
        }
        Slot s;
        while ((s = overflow.peek()) != null && idle.offer(s)) {
            overflow.poll();
            borrowers.wakeOne();
        }
    }

    private void sweep(long now) {
        int idleCount = idle.size();
        int killedIdle = 0;
        for (int i = 0; i < idleCount; i++) {
            Slot s = pollIdle();
            if (s == null) {
                break;
            }
            PoolListener.DestroyReason reason = null;
            if (s.error != null) {
                kill(s, null); // the background thread retries the allocation below
                continue;
            }
            if (maxLifetimeNanos > 0 && now - s.createdAt >= maxLifetimeNanos) {
                reason = PoolListener.DestroyReason.EXPIRED;
            } else if (s.touched) {
                s.touched = false;
                s.idleSince = now;
            } else if (idleTimeoutNanos > 0 && now - s.idleSince >= idleTimeoutNanos
                    && idleCount - killedIdle > minIdle) {
                reason = PoolListener.DestroyReason.IDLE;
                killedIdle++;
            }
            if (reason == null && validateIdleNanos > 0 && now - s.validatedAt >= validateIdleNanos) {
                s.validatedAt = now;
                if (!valid(s)) {
                    reason = PoolListener.DestroyReason.INVALID;
                }
            }
            if (reason != null) {
                kill(s, reason);
                destroyDead();
            } else {
                STATE.setRelease(s, IDLE);
                enqueue(s);
            }
        }
        for (Slot s : live) {
            int state = (int) STATE.getAcquire(s);
            if (state != CLAIMED && state != CLAIMED_QUEUED) {
                continue;
            }
            if (maxLifetimeNanos > 0 && now - s.createdAt >= maxLifetimeNanos) {
                s.expired = true;
            }
            Throwable where = s.borrowedWhere;
            if (leakThresholdNanos > 0 && where != null && !s.leakReported && now - s.borrowedAt >= leakThresholdNanos) {
                s.leakReported = true;
                leaksDetected.increment();
                Duration held = Duration.ofNanos(now - s.borrowedAt);
                log(System.Logger.Level.WARNING, "a lease has been held for " + held
                        + " without being returned; it was borrowed here:", where);
                Object object = s.object;
                tellListener(l -> l.onLeakSuspected(this, object, held, where), "onLeakSuspected");
            }
        }
        sweeps++;
    }

    private void drainForClose() {
        Slot s;
        while ((s = pollIdle()) != null) {
            if (s.error != null) {
                kill(s, null);
            } else {
                kill(s, PoolListener.DestroyReason.CLOSED);
            }
        }
        while ((s = overflow.poll()) != null) {
            for (;;) {
                int state = (int) STATE.getAcquire(s);
                if (state == IDLE) {
                    if (STATE.compareAndSet(s, IDLE, CLAIMED)) {
                        kill(s, s.error != null ? null : PoolListener.DestroyReason.CLOSED);
                        break;
                    }
                } else if (state == CLAIMED_QUEUED) {
                    // borrowed through its hint: now a plain borrowed slot, destroyed when returned
                    if (STATE.compareAndSet(s, CLAIMED_QUEUED, CLAIMED)) {
                        break;
                    }
                } else {
                    break;
                }
            }
        }
        destroyDead();
    }

    // ------------------------------------------------------------------ closing and state

    /**
     * Closes the pool and waits, under the current context, until every object is destroyed
     * (borrowed ones when they are returned). Calling it again only waits. Called from the pool's
     * own thread (a listener or the allocator), it starts the close and returns without waiting.
     *
     * @throws dev.resilience.context.ContextDoneException if the context ends first (the pool
     *     still finishes closing in the background)
     */
    @Override
    public void close() throws InterruptedException {
        if (!close(Duration.ofNanos(Long.MAX_VALUE)) && Thread.currentThread() != background) {
            throw new IllegalStateException("unreachable: an untimed close ended early");
        }
    }

    /**
     * Closes the pool and waits at most {@code timeout} (and never past the current context's end)
     * for every object to be destroyed. Called from the pool's own thread (a {@link PoolListener}
     * or the {@link Allocator} closing the pool), it does not wait: it returns false at once (or
     * true if already closed) and that thread finishes closing when the callback returns.
     *
     * @return true if the pool is fully closed, false if the timeout passed first
     */
    public boolean close(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        closed = true;
        borrowers.wakeAll();
        LockSupport.unpark(background);
        if (terminated) {
            return true;
        }
        if (Thread.currentThread() == background) {
            // A listener or the allocator closing the pool from the pool's own thread: that thread
            // destroys the objects once the callback returns, so waiting here would wait for itself.
            return false;
        }
        return closers.await(ticker, WaitList.until(ticker, Math.max(0, WaitList.saturatedNanos(timeout))), () -> terminated);
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    /** Objects allocated and not yet deallocated, including ones being allocated (an estimate). */
    public int size() {
        return allocated.get();
    }

    /** Idle objects (an estimate: it may count entries of objects borrowed through the fast path). */
    public int idle() {
        return Math.min(idle.size(), size());
    }

    /** Borrowers waiting now. */
    public int pendingBorrowers() {
        return waiting.get();
    }

    /** How many allocations have failed. */
    public long allocationFailures() {
        return allocationFailures.sum();
    }

    /** How many leases were reported as suspected leaks. */
    public long leaksDetected() {
        return leaksDetected.sum();
    }

    long sweeps() {
        return sweeps;
    }

    /** The configured maximum size. */
    public int maxSize() {
        return maxSize;
    }

    /** The name given to the builder. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "ObjectPool[" + name + ", size " + size() + "/" + maxSize + ", idle ~" + idle()
                + (closed ? ", closed" : "") + "]";
    }

    /** The last slot a thread borrowed; its fast path. */
    private final class Hint {
        Slot slot;
    }

    /** One pooled object and its bookkeeping; it is also the lease handed to borrowers. */
    final class Slot implements Lease<T> {
        volatile int state = CLAIMED;
        T object;
        Throwable error;
        long createdAt;
        long idleSince;
        long validatedAt;
        /** Set by borrowers, cleared by sweeps: was it borrowed since the last sweep? */
        boolean touched;
        /** Set by a sweep on a borrowed slot past its lifetime: destroy it when returned. */
        volatile boolean expired;
        PoolListener.DestroyReason reason;
        long borrowedAt;
        volatile Throwable borrowedWhere;
        boolean leakReported;

        @Override
        public T get() {
            int s = state;
            if (s != CLAIMED && s != CLAIMED_QUEUED) {
                throw new IllegalStateException("lease already ended");
            }
            return object;
        }

        @Override
        public void close() {
            release(this, false);
        }

        @Override
        public void invalidate() {
            release(this, true);
        }

        @Override
        public String toString() {
            return "Lease[" + object + "]";
        }
    }

    /**
     * Configures an {@link ObjectPool}.
     *
     * @param <T> the type of the pooled objects
     */
    public static final class Builder<T> {
        private final Allocator<T> allocator;
        private String name = "pool";
        private int minIdle;
        private int maxSize = 10;
        private long maxLifetimeNanos;
        private long idleTimeoutNanos;
        private long borrowTimeoutNanos = Duration.ofSeconds(30).toNanos();
        private long maintenanceNanos = Duration.ofSeconds(1).toNanos();
        private long validateIdleNanos;
        private long leakThresholdNanos;
        private boolean validateOnBorrow;
        private Ticker ticker = Ticker.system();
        private final List<PoolListener> listeners = new ArrayList<>();
        private ThreadFactory threadFactory;

        private Builder(Allocator<T> allocator) {
            this.allocator = Objects.requireNonNull(allocator, "allocator");
        }

        /** Names the pool in messages, its thread and metrics. Default "pool". */
        public Builder<T> name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Idle objects the pool keeps ready (allocated in the background). Default 0. */
        public Builder<T> minIdle(int minIdle) {
            if (minIdle < 0) {
                throw new IllegalArgumentException("minIdle must not be negative: " + minIdle);
            }
            this.minIdle = minIdle;
            return this;
        }

        /**
         * The most objects alive at once: 1 to {@link #MAX_SIZE} (2^20). Default 10. The pool's ring
         * of idle objects is allocated up front for twice this (about 12 bytes a slot with compressed
         * references: 24 MiB at the largest), so a pool is not made "unbounded" by a huge value.
         *
         * @throws IllegalArgumentException if {@code maxSize} is below 1 or above {@link #MAX_SIZE}
         */
        public Builder<T> maxSize(int maxSize) {
            if (maxSize < 1 || maxSize > MAX_SIZE) {
                throw new IllegalArgumentException("maxSize must be in [1, 2^20] (the idle ring is allocated for "
                        + "twice it up front): " + maxSize);
            }
            this.maxSize = maxSize;
            return this;
        }

        /** Objects older than this are destroyed (when idle, or when returned). Default: no limit. */
        public Builder<T> maxLifetime(Duration maxLifetime) {
            this.maxLifetimeNanos = positive(maxLifetime, "maxLifetime");
            return this;
        }

        /** Idle objects unused this long are destroyed, down to {@code minIdle}. Default: never. */
        public Builder<T> idleTimeout(Duration idleTimeout) {
            this.idleTimeoutNanos = positive(idleTimeout, "idleTimeout");
            return this;
        }

        /** How long {@link ObjectPool#borrow()} waits at most. Default 30 s. */
        public Builder<T> borrowTimeout(Duration borrowTimeout) {
            Objects.requireNonNull(borrowTimeout, "borrowTimeout");
            if (borrowTimeout.isNegative()) {
                throw new IllegalArgumentException("borrowTimeout must not be negative: " + borrowTimeout);
            }
            this.borrowTimeoutNanos = WaitList.saturatedNanos(borrowTimeout);
            return this;
        }

        /** How often the background thread sweeps. Default 1 s. */
        public Builder<T> maintenanceInterval(Duration interval) {
            this.maintenanceNanos = positive(interval, "maintenanceInterval");
            return this;
        }

        /** Validates every borrowed object on the borrowing thread before lending it. Default false. */
        public Builder<T> validateOnBorrow(boolean validateOnBorrow) {
            this.validateOnBorrow = validateOnBorrow;
            return this;
        }

        /** Validates idle objects in the background when last validated at least this long ago. Default: never. */
        public Builder<T> validateIdleEvery(Duration interval) {
            this.validateIdleNanos = positive(interval, "validateIdleEvery");
            return this;
        }

        /** Reports leases held longer than {@code threshold}, with where they were borrowed. Default: off. */
        public Builder<T> leakDetection(Duration threshold) {
            this.leakThresholdNanos = positive(threshold, "leakDetection");
            return this;
        }

        /** The clock of lifetimes, idle times, timeouts and sweeps. Default {@link Ticker#system()}. */
        public Builder<T> ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds a listener of the pool's events; may be called any number of times (each hears every
         * event, in the order added).
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder<T> listener(PoolListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Makes the background thread (it is set to daemon). Default: a platform thread named after the pool. */
        public Builder<T> threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /** The pool, with its background thread started. */
        public ObjectPool<T> build() {
            if (minIdle > maxSize) {
                throw new IllegalArgumentException("minIdle " + minIdle + " exceeds maxSize " + maxSize);
            }
            if (threadFactory == null) {
                String threadName = "resilience-pool-" + name;
                threadFactory = r -> new Thread(r, threadName);
            }
            return new ObjectPool<>(this);
        }

        private static long positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return WaitList.saturatedNanos(d);
        }
    }
}
