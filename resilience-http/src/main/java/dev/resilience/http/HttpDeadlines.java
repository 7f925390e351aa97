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
     * the request's own {@link HttpRequest.Builder#timeout timeout}. The header carries the time left;
     * the request's timeout is 1 ms longer, because the JDK's client fires its timers on whole
     * milliseconds and can end a request up to 1 ms early: this way the context is done when the JDK
     * reports {@link java.net.http.HttpTimeoutException}, and a policy bounding the send by the same
     * deadline (a {@link dev.resilience.core.Timeout}) reports its own timeout rather than a failure.
     * If the builder already has a timeout no longer than the time left, that one wins, in both and
     * as it is (the caller will not wait longer than it); a longer one is replaced. A context without
     * a deadline leaves the builder as it is.
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
        long ownNanos = own == null ? Long.MAX_VALUE : Checks.nonNegativeNanos(own, "timeout");
        long header = Math.min(remaining, ownNanos);
        // the JDK may fire up to 1 ms early (see the Javadoc): when the deadline is the bound, the
        // request's own timeout gets the slack, even past an own timeout less than 1 ms longer than the
        // deadline (which would fire early too). No overflow: a deadline lies within
        // Deadline.MAX_OFFSET_NANOS (2^62) of its ticker's reading (context.deadline() above checks it)
        long timeout = ownNanos <= remaining ? ownNanos : remaining + TIMER_SLACK_NANOS;
        return builder.setHeader(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(header)).timeout(Duration.ofNanos(timeout));
    }

    /** How much later than the context's deadline the request's own timeout is set; see {@link #propagate}. */
    static final long TIMER_SLACK_NANOS = 1_000_000L;

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
