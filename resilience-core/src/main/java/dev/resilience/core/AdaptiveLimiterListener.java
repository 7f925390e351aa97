package dev.resilience.core;

/**
 * Receives an {@link AdaptiveLimiter}'s events; every method defaults to doing nothing. Methods run
 * on the calling thread: keep them short and never block.
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
