package dev.resilience.core;

/**
 * Receives a {@link Retry}'s events; every method defaults to doing nothing and nothing is allocated
 * for an unused listener. Methods run on the calling thread: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface RetryListener {

    /** The listener that ignores everything; the default. */
    RetryListener NOOP = new RetryListener() {
    };

    /** Why a call stopped retrying and returned its last outcome. */
    enum GiveUp {
        /** The outcome is not one to retry. */
        NOT_RETRYABLE,
        /** The rule's attempts are used up. */
        EXHAUSTED,
        /** The backoff would reach the context's deadline. */
        DEADLINE,
        /** The retry budget had no retry left. */
        BUDGET,
        /** The wait asked for (typically a server's hint) exceeds the policy's {@code maxDelay}. */
        DELAY_TOO_LONG
    }

    /**
     * A retry is scheduled.
     *
     * @param attempt the attempt that just failed (1 for the first)
     * @param delayNanos the wait before the next attempt
     * @param failure the attempt's exception, or null if its result was retryable
     */
    default void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
    }

    /** The call ends with a retryable-looking outcome that will not be retried. */
    default void onGiveUp(Retry retry, int attempts, GiveUp reason) {
    }
}
