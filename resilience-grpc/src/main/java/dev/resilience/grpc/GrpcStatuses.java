package dev.resilience.grpc;

import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.RefusedException;
import dev.resilience.core.TimeoutExceededException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one classification of gRPC outcomes the toolkit's policies share, and the mapping of the
 * toolkit's own failures to gRPC statuses.
 *
 * <pre>{@code
 * Retry retry = Retry.builder("inventory")
 *         .retryOn(GrpcStatuses::isRetryable)                 // UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED
 *         .budget(RetryBudget.of(0.2, 10, 100))
 *         .build();
 * CircuitBreaker breaker = CircuitBreaker.builder("inventory")
 *         .isSuccessful(GrpcStatuses::isClientError)          // the server answered: not its health
 *         .isExcluded(CircuitBreaker.defaultExclusions().or(GrpcStatuses::isCancellation))
 *         .build();
 * }</pre>
 *
 * <p><b>Classes of codes.</b> Retryable: {@code UNAVAILABLE}, {@code RESOURCE_EXHAUSTED},
 * {@code DEADLINE_EXCEEDED} (and the per-attempt {@link TimeoutExceededException} of a
 * {@code Timeout} policy), unless the status was made from the caller's own cancellation or from a
 * guard's refusal. Client errors (the gRPC codes HTTP maps to 4xx, other than 429 and 499):
 * {@code INVALID_ARGUMENT}, {@code FAILED_PRECONDITION}, {@code OUT_OF_RANGE},
 * {@code UNAUTHENTICATED}, {@code PERMISSION_DENIED}, {@code NOT_FOUND}, {@code ABORTED},
 * {@code ALREADY_EXISTS}: never retried, and a healthy server's answer, so a breaker should count
 * them as successes. Cancellations ({@code CANCELLED}, the context's
 * {@link ContextCancelledException}) are neither. The rest ({@code UNKNOWN}, {@code INTERNAL},
 * {@code UNIMPLEMENTED}, {@code DATA_LOSS}) are failures that are not retried.
 *
 * <p>All predicates accept any {@link Throwable} (a {@link StatusRuntimeException} or
 * {@link StatusException} anywhere in its cause chain carries the status) and null, and never throw.
 */
public final class GrpcStatuses {

    /** How deep a cause chain is searched: enough for wrappers, bounded against cycles. */
    private static final int MAX_DEPTH = 8;

    private GrpcStatuses() {
    }

    /**
     * The gRPC status code a failure carries: that of the first {@link StatusRuntimeException} or
     * {@link StatusException} in its cause chain, or null if it carries none (a plain
     * {@code IOException}, a refusal by a guard, null).
     *
     * @param failure any throwable, or null
     * @return the code, or null
     */
    public static Status.Code code(Throwable failure) {
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_DEPTH; i++, t = t.getCause()) {
            if (t instanceof StatusRuntimeException) {
                return ((StatusRuntimeException) t).getStatus().getCode();
            }
            if (t instanceof StatusException) {
                return ((StatusException) t).getStatus().getCode();
            }
        }
        return null;
    }

    /**
     * True if another attempt may succeed: a {@code UNAVAILABLE}, {@code RESOURCE_EXHAUSTED} or
     * {@code DEADLINE_EXCEEDED} status that was not made from the caller's own cancellation or a
     * guard's refusal, or a {@code Timeout} policy's per-attempt {@link TimeoutExceededException}.
     * For {@code Retry.Builder.retryOn}. Whether there is time left for another attempt is the
     * retry's business: it never retries past the context's deadline.
     *
     * @param failure any throwable, or null (false)
     */
    public static boolean isRetryable(Throwable failure) {
        if (failure == null) {
            return false;
        }
        if (failure instanceof TimeoutExceededException) {
            return true;
        }
        Status.Code code = code(failure);
        if (code != Status.Code.UNAVAILABLE && code != Status.Code.RESOURCE_EXHAUSTED
                && code != Status.Code.DEADLINE_EXCEEDED) {
            return false;
        }
        return !causedBy(failure, ContextCancelledException.class) && !causedBy(failure, RefusedException.class);
    }

    /**
     * True for the codes with which a healthy server rejects a request on its merits (the gRPC
     * counterparts of HTTP 4xx other than 429 and 499): {@code INVALID_ARGUMENT},
     * {@code FAILED_PRECONDITION}, {@code OUT_OF_RANGE}, {@code UNAUTHENTICATED},
     * {@code PERMISSION_DENIED}, {@code NOT_FOUND}, {@code ABORTED}, {@code ALREADY_EXISTS}. Never
     * retryable; for {@code CircuitBreaker.Builder.isSuccessful}, so that they do not open a breaker.
     *
     * @param failure any throwable, or null (false)
     */
    public static boolean isClientError(Throwable failure) {
        Status.Code code = code(failure);
        if (code == null) {
            return false;
        }
        switch (code) {
            case INVALID_ARGUMENT:
            case FAILED_PRECONDITION:
            case OUT_OF_RANGE:
            case UNAUTHENTICATED:
            case PERMISSION_DENIED:
            case NOT_FOUND:
            case ABORTED:
            case ALREADY_EXISTS:
                return true;
            default:
                return false;
        }
    }

    /**
     * True if the call was cancelled rather than failed: a {@code CANCELLED} status, the context's
     * {@link ContextCancelledException}, or a {@link CancellationException}. Says nothing about the
     * server; for {@code CircuitBreaker.Builder.isExcluded}.
     *
     * @param failure any throwable, or null (false)
     */
    public static boolean isCancellation(Throwable failure) {
        if (failure == null) {
            return false;
        }
        return code(failure) == Status.Code.CANCELLED || causedBy(failure, ContextCancelledException.class)
                || causedBy(failure, CancellationException.class);
    }

    /**
     * The gRPC status for a failure, as the client interceptor reports it to the application and as
     * a server handler may close its call with:
     * <ul>
     * <li>a {@link StatusRuntimeException} or {@link StatusException} (in the cause chain): its status;</li>
     * <li>the context's {@link DeadlineExceededException}, a {@code Timeout} policy's
     *     {@link TimeoutExceededException}: {@code DEADLINE_EXCEEDED};</li>
     * <li>the context's {@link ContextCancelledException}, a {@link CancellationException}:
     *     {@code CANCELLED};</li>
     * <li>an open circuit breaker's {@link CallNotPermittedException}: {@code UNAVAILABLE} (the
     *     dependency is considered down: come back later);</li>
     * <li>every other {@link RefusedException} (rate limiter, bulkhead, adaptive or distributed limit):
     *     {@code RESOURCE_EXHAUSTED} (a local quota is used up);</li>
     * <li>anything else: {@code UNKNOWN}, as {@link Status#fromThrowable} makes it.</li>
     * </ul>
     * The failure is the status's cause (except where it already carried a status), so
     * {@code e.getCause()} of the application's {@link StatusRuntimeException} tells a refusal from
     * the server's own {@code UNAVAILABLE}. Wrappers ({@link CompletionException},
     * {@link ExecutionException}) are looked through.
     *
     * @param failure the failure
     * @return its status
     * @throws NullPointerException if {@code failure} is null
     */
    public static Status toStatus(Throwable failure) {
        Objects.requireNonNull(failure, "failure");
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof StatusRuntimeException) {
            return ((StatusRuntimeException) t).getStatus();
        }
        if (t instanceof StatusException) {
            return ((StatusException) t).getStatus();
        }
        if (t instanceof ContextDoneException) {
            return t instanceof DeadlineExceededException
                    ? Status.DEADLINE_EXCEEDED.withDescription(t.getMessage()).withCause(t)
                    : Status.CANCELLED.withDescription(t.getMessage()).withCause(t);
        }
        if (t instanceof TimeoutExceededException) {
            return Status.DEADLINE_EXCEEDED.withDescription(t.getMessage()).withCause(t);
        }
        if (t instanceof CallNotPermittedException) {
            return Status.UNAVAILABLE.withDescription(t.getMessage()).withCause(t);
        }
        if (t instanceof RefusedException) {
            return Status.RESOURCE_EXHAUSTED.withDescription(t.getMessage()).withCause(t);
        }
        if (t instanceof CancellationException) {
            return Status.CANCELLED.withDescription(t.getMessage()).withCause(t);
        }
        return Status.fromThrowable(t);
    }

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_DEPTH; i++, t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
