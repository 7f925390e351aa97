package dev.resilience.core;

/**
 * Receives a {@link CircuitBreaker}'s events. Every method defaults to doing nothing and no event
 * object is allocated. Methods run on the calling thread (a state change on the thread whose call
 * caused it, exactly once per change): keep them short and never block.
 */
public interface CircuitBreakerListener {

    /** The listener that ignores everything; the default. */
    CircuitBreakerListener NOOP = new CircuitBreakerListener() {
    };

    /** The breaker moved from {@code from} to {@code to}; gobreaker's {@code OnStateChange}. */
    default void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to) {
    }

    /** A call was refused in state {@code state}. */
    default void onNotPermitted(CircuitBreaker breaker, CircuitBreaker.State state) {
    }

    /** A call of the current generation succeeded. */
    default void onSuccess(CircuitBreaker breaker) {
    }

    /** A call of the current generation failed. */
    default void onFailure(CircuitBreaker breaker, Throwable failure) {
    }

    /** A call of the current generation was slower than the slow-call threshold. */
    default void onSlowCall(CircuitBreaker breaker, long durationNanos) {
    }

    /** A call's outcome was excluded from the counts. */
    default void onExcluded(CircuitBreaker breaker, Throwable failure) {
    }
}
