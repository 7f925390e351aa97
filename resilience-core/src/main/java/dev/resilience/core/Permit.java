package dev.resilience.core;

/**
 * The low-level way to use a concurrency-limiting guard without a callback, for hot paths and
 * frameworks: {@link CircuitBreaker#tryAcquire()}, {@link AdaptiveThrottle#tryAcquire()},
 * {@link Bulkhead#tryAcquire()} and {@link AdaptiveLimiter#tryAcquire()} all return one.
 *
 * <pre>{@code
 * Permit p = guard.tryAcquire();
 * if (!p.isPermitted()) {
 *     return fallback();                 // refused: nothing to give back
 * }
 * try {
 *     Result r = call();
 *     p.onSuccess();
 *     return r;
 * } catch (Exception e) {
 *     p.onFailure(e);
 *     throw e;
 * }
 * }</pre>
 *
 * <p>A granted permit must end with exactly one of {@link #onSuccess}, {@link #onFailure},
 * {@link #onExcluded} or {@link #release}; each gives back what the guard took (a slot, a half-open
 * probe). On a refused permit they do nothing. Refusals are shared constants, so refusing allocates
 * nothing; a granted permit is a shared object too unless the guard must remember when the call
 * started (a breaker tracking slow calls, an adaptive limiter), which costs one small object.
 */
public interface Permit {

    /**
     * Whether the call may go ahead.
     *
     * @return true if granted
     */
    boolean isPermitted();

    /** The call succeeded. */
    void onSuccess();

    /**
     * The call failed with {@code failure}; the guard classifies it (a breaker by its
     * {@code isExcluded} and {@code isSuccessful} predicates, an adaptive limiter as a drop or no
     * sample).
     *
     * @param failure what the call threw
     * @throws NullPointerException if {@code failure} is null
     */
    void onFailure(Throwable failure);

    /** The call's outcome must not count (e.g. a client error); what the permit held is given back. */
    void onExcluded();

    /** The call was cancelled before it had an outcome: nothing counts; what it held is given back. */
    void release();
}
