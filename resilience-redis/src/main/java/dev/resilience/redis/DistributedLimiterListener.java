package dev.resilience.redis;

/**
 * Receives a distributed limiter's events (every method defaults to doing nothing). Methods run on
 * the caller's thread or on Lettuce's event threads: keep them short and never block. Keys are
 * passed for logging; do not make them metric tags unless their number is small. An exception a
 * method throws is logged through {@link System.Logger} and ignored: it never changes a decision.
 */
public interface DistributedLimiterListener {

    /** The listener that ignores everything; the default. */
    DistributedLimiterListener NOOP = new DistributedLimiterListener() {
    };

    /**
     * A decision was made, by Redis or by the fallback ({@link Decision#source()}).
     *
     * @param limiter the limiter
     * @param key the key
     * @param decision what was decided
     */
    default void onDecision(DistributedLimiter limiter, String key, Decision decision) {
    }

    /**
     * Redis could not decide; the failure mode will. Called before the matching {@link #onDecision}.
     *
     * @param limiter the limiter
     * @param cause why
     * @param error the failure, or null for {@link FallbackCause#BREAKER_OPEN}
     */
    default void onFallback(DistributedLimiter limiter, FallbackCause cause, Throwable error) {
    }

    /**
     * Redis answered.
     *
     * @param limiter the limiter
     * @param nanos the round trip, connecting included
     */
    default void onRoundTrip(DistributedLimiter limiter, long nanos) {
    }
}
