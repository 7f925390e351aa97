package dev.resilience.core;

/**
 * A guard refused a call: the rate limiter had no permit within the allowed wait, or the bulkhead
 * had no free slot. Carries no stack trace: rejections are expected under load and must be cheap.
 * The low-level APIs ({@code tryAcquire}) report rejection with a return value instead.
 */
public class RequestNotPermittedException extends RuntimeException {
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

    private final String guard;
    private final Reason reason;

    /**
     * @param guard the name of the guard that refused
     * @param reason why
     * @param message details
     */
    public RequestNotPermittedException(String guard, Reason reason, String message) {
        super(guard + ": " + message, null, false, false);
        this.guard = guard;
        this.reason = reason;
    }

    /** The name of the guard that refused. */
    public String guard() {
        return guard;
    }

    /** Why the request was refused. */
    public Reason reason() {
        return reason;
    }
}
