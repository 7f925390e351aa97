package dev.resilience.context;

/**
 * The context was cancelled through its {@link CancelHandle} (or one of its ancestors was). The
 * cancellation cause, if one was given, is this exception's {@linkplain #getCause() cause}.
 */
public final class ContextCancelledException extends ContextDoneException {
    private static final long serialVersionUID = 1L;

    static final ContextCancelledException NO_CAUSE = new ContextCancelledException(null, false);

    ContextCancelledException(Throwable cause, boolean withStackTrace) {
        super(cause == null ? "context cancelled" : "context cancelled: " + cause, cause, withStackTrace);
    }

    @Override
    ContextDoneException withStackTrace() {
        return new ContextCancelledException(getCause(), true);
    }
}
