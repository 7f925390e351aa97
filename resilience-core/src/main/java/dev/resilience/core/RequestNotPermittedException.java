package dev.resilience.core;

/**
 * A guard refused a call: the rate limiter (or a distributed limit) had no permit within the allowed
 * wait, the adaptive limit was reached, or the bulkhead had no free slot
 * ({@link BulkheadFullException}). A {@link RefusedException}. Carries no stack trace: rejections are
 * expected under load and must be cheap. The low-level APIs ({@code tryAcquire}) report rejection
 * with a return value instead.
 */
public class RequestNotPermittedException extends RefusedException {
    private static final long serialVersionUID = 1L;

    /** Why a request was refused. */
    public enum Reason {
        /** More permits were asked for than the limiter's burst: they can never be granted. */
        EXCEEDS_BURST,
        /** The permits would only be available after the context's deadline. */
        WOULD_PASS_DEADLINE,
        /** No permit was available and the caller did not wait. */
        NO_PERMIT,
        /** All bulkhead slots were taken for the whole allowed wait. */
        BULKHEAD_FULL,
        /** The adaptive concurrency limit was reached. */
        LIMIT_EXCEEDED
    }

    private final Reason reason;

    /**
     * A refusal whose kind follows from {@code reason}: a bulkhead's, an adaptive limit's, or a
     * rate limiter's.
     *
     * @param guard the name of the guard that refused
     * @param reason why
     * @param message details
     */
    public RequestNotPermittedException(String guard, Reason reason, String message) {
        this(guard, reason, reason == Reason.BULKHEAD_FULL ? Refusal.BULKHEAD_FULL
                : reason == Reason.LIMIT_EXCEEDED ? Refusal.CONCURRENCY_LIMITED : Refusal.RATE_LIMITED, message);
    }

    /**
     * @param guard the name of the guard that refused
     * @param reason why
     * @param refusal which kind of policy refused (e.g. {@link Refusal#DISTRIBUTED_LIMITED})
     * @param message details
     */
    public RequestNotPermittedException(String guard, Reason reason, Refusal refusal, String message) {
        super(guard, refusal, guard + ": " + message);
        this.reason = reason;
    }

    /** The name of the guard that refused; the same as {@link #policy()}. */
    public String guard() {
        return policy();
    }

    /** Why the request was refused. */
    public Reason reason() {
        return reason;
    }
}
