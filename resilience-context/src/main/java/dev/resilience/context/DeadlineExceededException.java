package dev.resilience.context;

/** The context's deadline (its own or an ancestor's) has passed. */
public final class DeadlineExceededException extends ContextDoneException {
    private static final long serialVersionUID = 1L;

    static final DeadlineExceededException INSTANCE = new DeadlineExceededException(false);

    /**
     * A deadline-exceeded outcome with the caller's stack trace, for code that must report one
     * itself (a fault injector simulating a slow dependency, an adapter of another library's
     * timeout).
     */
    public DeadlineExceededException() {
        this(true);
    }

    DeadlineExceededException(boolean withStackTrace) {
        super("context deadline exceeded", null, withStackTrace);
    }

    /** With the cause given to {@code withDeadlineCause}/{@code withTimeoutCause}. */
    DeadlineExceededException(Throwable cause, boolean withStackTrace) {
        super("context deadline exceeded", cause, withStackTrace); // the cause prints itself; no toString() here
    }

    @Override
    ContextDoneException withStackTrace() {
        return new DeadlineExceededException(getCause(), true);
    }
}
