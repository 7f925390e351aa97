package dev.resilience.core;

/**
 * Receives an {@link AdaptiveThrottle}'s events. Every method defaults to doing nothing and no event
 * object is allocated. Methods run on the calling thread: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the throttle's counts
 * or its decisions.
 */
public interface AdaptiveThrottleListener {

    /** The listener that ignores everything; the default. */
    AdaptiveThrottleListener NOOP = new AdaptiveThrottleListener() {
    };

    /**
     * A call was dropped before it was made.
     *
     * @param throttle the throttle
     * @param dropRatio the probability with which it was dropping calls, in (0, 1)
     */
    default void onRejected(AdaptiveThrottle throttle, double dropRatio) {
    }

    /**
     * A call the dependency accepted: it succeeded, or failed with an exception that counts as
     * success (a business error).
     */
    default void onAccepted(AdaptiveThrottle throttle) {
    }

    /** A call the dependency refused or failed (a timeout, a 5xx): it counts against the dependency. */
    default void onFailure(AdaptiveThrottle throttle, Throwable failure) {
    }
}
