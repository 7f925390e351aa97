package dev.resilience.core;

/**
 * A policy refused a call before running it: the circuit breaker is open, the rate limiter or a
 * distributed limit had no permit, the bulkhead or the adaptive concurrency limit was full, the
 * client-side throttle dropped it. One type
 * to select them all, as in {@code Fallback.on(RefusedException.class)}; the subclasses carry the
 * details ({@link CallNotPermittedException#state()}, {@link RequestNotPermittedException#reason()}).
 * A refusal says nothing about the dependency's health: a circuit breaker never counts one as a
 * failure, and a retry does not retry one by default.
 *
 * <p>Carries no stack trace: refusals are expected under load and must be cheap.
 */
public abstract class RefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Which kind of policy refused. */
    public enum Refusal {
        /** A circuit breaker that is open or forced open. */
        CIRCUIT_OPEN,
        /** A circuit breaker that is half-open with every probe slot taken. */
        CIRCUIT_HALF_OPEN_FULL,
        /** A rate limiter: no permit within the allowed wait. */
        RATE_LIMITED,
        /** A bulkhead: every slot taken for the whole allowed wait. */
        BULKHEAD_FULL,
        /** An adaptive concurrency limit was reached. */
        CONCURRENCY_LIMITED,
        /** A limit kept in a shared store (Redis) had no permit. */
        DISTRIBUTED_LIMITED,
        /** A client-side throttle ({@link AdaptiveThrottle}) dropped the call: the dependency has been refusing. */
        THROTTLED
    }

    /** How deep {@link #isRefusal} looks into a failure's causes. */
    private static final int CAUSE_DEPTH = 8;

    private final String policy;
    private final Refusal refusal;

    /**
     * Whether {@code failure} is a refusal: a {@code RefusedException}, or an exception whose cause,
     * within 8 levels, is one (as OkHttp's {@code RefusedIOException} or a gRPC status carry the
     * refusal of a guard inside). A retry does not retry one by default, a retry budget earns
     * nothing from it, a hedge reports another attempt's failure before it. A cause that cannot be
     * read (a {@code getCause} that throws) ends the search: false.
     *
     * @param failure any throwable, or null (false)
     * @return true if a refusal is found
     */
    public static boolean isRefusal(Throwable failure) {
        try {
            Throwable t = failure;
            for (int depth = 0; t != null && depth < CAUSE_DEPTH; depth++) {
                if (t instanceof RefusedException) {
                    return true;
                }
                Throwable cause = t.getCause();
                t = cause == t ? null : cause;
            }
            return false;
        } catch (RuntimeException unreadable) {
            return false;
        }
    }

    /**
     * @param policy the name of the policy that refused
     * @param refusal which kind of policy refused
     * @param message details
     */
    protected RefusedException(String policy, Refusal refusal, String message) {
        super(message, null, false, false);
        this.policy = policy;
        this.refusal = refusal;
    }

    /** The name of the policy that refused. */
    public String policy() {
        return policy;
    }

    /** Which kind of policy refused. */
    public Refusal refusal() {
        return refusal;
    }
}
