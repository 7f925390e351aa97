package dev.resilience.core;

/**
 * Receives a {@link Timeout}'s events. Every method defaults to doing nothing and no event object is
 * allocated. Methods run on the thread that observed the event: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface TimeoutListener {

    /** The listener that ignores everything; the default. */
    TimeoutListener NOOP = new TimeoutListener() {
    };

    /** A call ran out of this policy's time (not the caller's earlier deadline). */
    default void onTimeout(Timeout timeout) {
    }
}
