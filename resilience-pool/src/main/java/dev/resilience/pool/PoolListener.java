package dev.resilience.pool;

import java.time.Duration;

/**
 * Events of an {@link ObjectPool}, each naming the pool; every method defaults to nothing. A pool
 * takes any number of listeners ({@link ObjectPool.Builder#listener}, {@link ObjectPool#addListener}). Called on the thread that
 * caused the event (often the pool's background thread); implementations should be fast. An
 * exception a method throws is logged through {@link System.Logger} and ignored: it never loses an
 * object, a lease or a wake-up.
 */
public interface PoolListener {

    /** A listener that ignores everything. */
    PoolListener NOOP = new PoolListener() {
    };

    /** Why an object was destroyed. */
    enum DestroyReason {
        /** It lived longer than the maximum lifetime. */
        EXPIRED,
        /** It stayed idle longer than the idle timeout. */
        IDLE,
        /** Validation returned false or threw. */
        INVALID,
        /** A borrower invalidated its lease. */
        INVALIDATED,
        /** The pool was closed. */
        CLOSED
    }

    /** The allocator made a new object. */
    default void onAllocated(ObjectPool<?> pool) {
    }

    /** The allocator failed. */
    default void onAllocationFailed(ObjectPool<?> pool, Throwable error) {
    }

    /** An object was destroyed. */
    default void onDestroyed(ObjectPool<?> pool, DestroyReason reason) {
    }

    /** A borrower waited {@code waitNanos} and got an object. Not called for borrows that did not wait. */
    default void onBorrowWaited(ObjectPool<?> pool, long waitNanos) {
    }

    /** A borrower gave up after waiting (timeout, context ended or interrupt). */
    default void onBorrowTimedOut(ObjectPool<?> pool, long waitNanos) {
    }

    /** The pool finished closing: every object is destroyed. */
    default void onClosed(ObjectPool<?> pool) {
    }

    /**
     * A lease has been held longer than the leak-detection threshold; {@code borrowedAt}'s stack
     * trace shows where it was borrowed. Reported once per lease.
     */
    default void onLeakSuspected(ObjectPool<?> pool, Object object, Duration held, Throwable borrowedAt) {
    }
}
