package dev.resilience.core;

/**
 * Receives an {@link AdaptiveLimiter}'s events; every method defaults to doing nothing. Methods run
 * on the calling thread: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface AdaptiveLimiterListener {

    /** The listener that ignores everything; the default. */
    AdaptiveLimiterListener NOOP = new AdaptiveLimiterListener() {
    };

    /** The limit moved. */
    default void onLimitChanged(AdaptiveLimiter limiter, int oldLimit, int newLimit) {
    }

    /** A call was refused because the limit was reached. */
    default void onRejected(AdaptiveLimiter limiter) {
    }
}
