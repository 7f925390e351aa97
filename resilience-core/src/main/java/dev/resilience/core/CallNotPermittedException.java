package dev.resilience.core;

/**
 * The circuit breaker refused a call: it is open, forced open, or half-open with every probe slot
 * taken. A {@link RefusedException}. Carries no stack trace: refusals are expected under failure and
 * must be cheap. The permit API ({@link CircuitBreaker#tryAcquire()}) reports refusal with a value
 * instead.
 */
public final class CallNotPermittedException extends RefusedException {
    private static final long serialVersionUID = 1L;

    private final CircuitBreaker.State state;

    CallNotPermittedException(String breaker, CircuitBreaker.State state) {
        super(breaker, state == CircuitBreaker.State.HALF_OPEN ? Refusal.CIRCUIT_HALF_OPEN_FULL : Refusal.CIRCUIT_OPEN,
                "circuit breaker '" + breaker + "' is " + state + " and does not permit further calls");
        this.state = state;
    }

    /** The name of the breaker that refused; the same as {@link #policy()}. */
    public String breaker() {
        return policy();
    }

    /** The breaker's state when it refused. */
    public CircuitBreaker.State state() {
        return state;
    }
}
