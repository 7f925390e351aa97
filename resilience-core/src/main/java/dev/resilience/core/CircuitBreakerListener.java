package dev.resilience.core;

/**
 * Receives a {@link CircuitBreaker}'s events. Every method defaults to doing nothing and no event
 * object is allocated. Methods run on the calling thread (a state change on the thread whose call
 * caused it, exactly once per change): keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 *
 * <p>Each state change is reported exactly once, right after it happened; when changes race (a trip
 * and a {@code reset()} on two threads), their {@code onStateChange} calls may arrive in either order.
 * {@link CircuitBreaker#state()} is always the current state.
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
