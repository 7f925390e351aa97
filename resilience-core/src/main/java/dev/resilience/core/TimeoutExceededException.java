package dev.resilience.core;

/**
 * A {@link Timeout} policy ran out of time before the call completed. The call's context was
 * cancelled at that moment (with a {@code DeadlineExceededException}) and any late result is
 * discarded. Carries no stack trace: timeouts are expected under load and must be cheap.
 */
public final class TimeoutExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String policy;
    private final long timeoutNanos;

    TimeoutExceededException(String policy, long timeoutNanos, Throwable lateFailure) {
        super(policy + ": call did not complete within " + timeoutNanos / 1_000_000 + " ms", lateFailure, false,
                false);
        this.policy = policy;
        this.timeoutNanos = timeoutNanos;
    }

    /** The name of the timeout policy. */
    public String policy() {
        return policy;
    }

    /** The configured timeout in nanoseconds. */
    public long timeoutNanos() {
        return timeoutNanos;
    }
}
