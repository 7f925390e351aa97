package dev.resilience.core;

/**
 * The shared refused permits: a refusal carries nothing per call, so refusing allocates nothing.
 * A circuit breaker's say in which state it refused.
 */
final class RefusedPermit implements Permit {

    static final Permit BULKHEAD = new RefusedPermit(null);
    static final Permit ADAPTIVE = new RefusedPermit(null);

    /** The breaker's state when it refused; null for the other guards. */
    final CircuitBreaker.State state;

    RefusedPermit(CircuitBreaker.State state) {
        this.state = state;
    }

    @Override
    public boolean isPermitted() {
        return false;
    }

    @Override
    public void onSuccess() {
    }

    @Override
    public void onFailure(Throwable failure) {
        java.util.Objects.requireNonNull(failure, "failure");
    }

    @Override
    public void onExcluded() {
    }

    @Override
    public void release() {
    }

    @Override
    public String toString() {
        return state == null ? "NotPermitted" : "NotPermitted[" + state + "]";
    }
}
