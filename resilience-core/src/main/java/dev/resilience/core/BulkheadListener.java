package dev.resilience.core;

/**
 * Receives a {@link Bulkhead}'s events. Every method defaults to doing nothing and no event object
 * is allocated. Methods run on the calling thread: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface BulkheadListener {

    /** The listener that ignores everything; the default. */
    BulkheadListener NOOP = new BulkheadListener() {
    };

    /** A slot was taken after waiting {@code waitedNanos} (0 without a wait). */
    default void onPermitted(Bulkhead bulkhead, long waitedNanos) {
    }

    /** No slot was free within the allowed wait. */
    default void onRejected(Bulkhead bulkhead) {
    }

    /** A slot was given back. */
    default void onReleased(Bulkhead bulkhead) {
    }
}
