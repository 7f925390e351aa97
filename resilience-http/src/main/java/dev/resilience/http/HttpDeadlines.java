package dev.resilience.http;

import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.internal.Checks;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Objects;

/**
 * Puts a context's deadline on an outgoing {@code java.net.http} request: the {@code grpc-timeout}
 * header ({@link DeadlineHeaders}) and the request's own timeout.
 *
 * <pre>{@code
 * HttpRequest request = HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build(); // grpc-timeout: 249998u
 * }</pre>
 */
public final class HttpDeadlines {

    private HttpDeadlines() {
    }

    /**
     * Puts the current context's deadline on an outgoing request: a {@code grpc-timeout} header and
     * the request's own {@link HttpRequest.Builder#timeout timeout}. If the builder already has a
     * shorter timeout, that one wins, in both (the caller will not wait longer than it). A context
     * without a deadline leaves the builder as it is.
     *
     * @throws dev.resilience.context.ContextDoneException if the context is already done: the request would be wasted
     */
    public static HttpRequest.Builder propagate(HttpRequest.Builder builder) {
        return propagate(builder, Context.current());
    }

    /** Like {@link #propagate(HttpRequest.Builder)} for a given context. */
    public static HttpRequest.Builder propagate(HttpRequest.Builder builder, Context context) {
        Objects.requireNonNull(builder, "builder");
        Objects.requireNonNull(context, "context");
        context.throwIfDone();
        if (context.deadline().isEmpty()) {
            return builder;
        }
        long remaining = context.remainingNanos();
        if (remaining <= 0) {
            context.throwIfDone();
            throw new DeadlineExceededException();
        }
        Duration own = timeoutOf(builder);
        long timeout = own == null ? remaining : Math.min(remaining, Checks.nonNegativeNanos(own, "timeout"));
        return builder.setHeader(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(timeout)).timeout(Duration.ofNanos(timeout));
    }

    /**
     * The timeout already set on {@code builder}, or null. A builder without a URI yet is read through
     * a copy given a placeholder URI (the copy is thrown away), so its own shorter timeout still wins.
     */
    private static Duration timeoutOf(HttpRequest.Builder builder) {
        try {
            return builder.copy().build().timeout().orElse(null);
        } catch (IllegalStateException noUriYet) {
            try {
                return builder.copy().uri(PLACEHOLDER).build().timeout().orElse(null);
            } catch (IllegalStateException | IllegalArgumentException stillNot) {
                return null;
            }
        }
    }

    private static final java.net.URI PLACEHOLDER = java.net.URI.create("http://placeholder.invalid/");

}
