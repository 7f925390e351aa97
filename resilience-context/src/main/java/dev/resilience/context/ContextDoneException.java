package dev.resilience.context;

/**
 * Why a {@link Context} is done: the common type of {@link ContextCancelledException} and
 * {@link DeadlineExceededException}, the two outcomes Go calls {@code context.Canceled} and
 * {@code context.DeadlineExceeded}.
 *
 * <p>The instance returned by {@link Context#err()} is a marker without a stack trace (it may be
 * shared); {@link Context#throwIfDone()} throws a fresh one with a stack trace.
 */
public abstract class ContextDoneException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ContextDoneException(String message, Throwable cause, boolean withStackTrace) {
        super(message, cause, false, withStackTrace);
    }

    /** A fresh exception of the same kind and cause, with the caller's stack trace. */
    abstract ContextDoneException withStackTrace();
}
