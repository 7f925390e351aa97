package dev.resilience.core;

/**
 * Receives a {@link RateLimiter}'s events. Every method defaults to doing nothing, and the limiter
 * allocates no event object, so an unused listener costs nothing. Methods run on the calling thread
 * inside the limiter's hot path: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface RateLimiterListener {

    /** The listener that ignores everything; the default. */
    RateLimiterListener NOOP = new RateLimiterListener() {
    };

    /**
     * Permits were granted.
     *
     * @param limiter the limiter
     * @param permits how many
     * @param waitedNanos how long the caller waited for them (0 for {@code tryAcquire})
     */
    default void onPermitted(RateLimiter limiter, int permits, long waitedNanos) {
    }

    /**
     * Permits were refused; the limiter's state is unchanged.
     *
     * @param limiter the limiter
     * @param permits how many were asked for
     * @param reason why
     */
    default void onRejected(RateLimiter limiter, int permits, RequestNotPermittedException.Reason reason) {
    }
}
