package dev.resilience.http.apache;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineHeaders;
import java.io.IOException;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.util.Timeout;

/** What the classic and the async handler share: the deadline on an attempt, and outcomes that stop the policy. */
final class Attempts {

    /**
     * The largest failing response body the async handler holds back while the policy decides on a
     * retry, and the largest the classic handler reads to its end to reuse a retried response's
     * connection.
     */
    static final int MAX_BUFFERED_BODY = 64 * 1024;

    private Attempts() {
    }

    /** Puts the remaining time on the attempt's request as a {@code grpc-timeout} header. */
    static void propagate(HttpRequest request, long remainingNanos) {
        request.setHeader(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(remainingNanos));
    }

    /**
     * {@code base} with its connection-request, connect and response timeouts cut to
     * {@code remainingNanos} rounded up to whole milliseconds plus one, so that none fires before the
     * context's deadline has passed (a socket timeout counts on the monotonic clock, but the classic
     * pool's wait for a connection counts {@code System.currentTimeMillis()} differences, which can end
     * it up to 1 ms early, or more if the wall clock is stepped); {@code base} itself if none is longer. A shorter
     * timeout of {@code base} is kept, and so is an unset one: the connection manager's
     * {@code ConnectionConfig} decides it, and may be shorter than the deadline (setting the remaining
     * time there would lengthen it); the end of the context cancels the attempt in any case.
     */
    @SuppressWarnings("deprecation") // RequestConfig's connect timeout: deprecated for ConnectionConfig's, still honoured first
    static RequestConfig bounded(RequestConfig base, long remainingNanos) {
        // at most Long.MAX_VALUE / 10^6 + 2: no overflow
        long millis = Math.max(1L, remainingNanos / 1_000_000L + (remainingNanos % 1_000_000L == 0 ? 0 : 1)) + 1;
        boolean request = longer(base.getConnectionRequestTimeout(), millis);
        boolean connect = longer(base.getConnectTimeout(), millis);
        boolean response = longer(base.getResponseTimeout(), millis);
        if (!request && !connect && !response) {
            return base;
        }
        Timeout t = Timeout.ofMilliseconds(millis);
        RequestConfig.Builder b = RequestConfig.copy(base);
        if (request) {
            b.setConnectionRequestTimeout(t);
        }
        if (connect) {
            b.setConnectTimeout(t);
        }
        if (response) {
            b.setResponseTimeout(t);
        }
        return b.build();
    }

    /** Whether {@code timeout} is set and may wait longer than {@code millis} (disabled: forever). */
    private static boolean longer(Timeout timeout, long millis) {
        return timeout != null && (timeout.isDisabled() || timeout.toMilliseconds() > millis);
    }

    /** The exception of a done context, with this caller's stack trace; null while it is not done. */
    static ContextDoneException doneException(Context context) {
        try {
            context.throwIfDone();
            return null;
        } catch (ContextDoneException e) {
            return e;
        }
    }

    /** What a retry of a request whose body cannot be sent again ends with. */
    static IOException notRepeatable(Throwable previous) {
        return new IOException("not retried: the request body cannot be sent again"
                + (previous == null ? "" : " (the attempt before failed: " + previous + ")"), previous);
    }

    /**
     * An attempt that ends the policy's run without saying anything about the server: the caller
     * aborted the exchange (its {@code IOException} or {@code CancellationException} is the cause),
     * another attempt's response already went to the caller, or a policy of the user's tried to send
     * a body that cannot be sent twice. An {@link InterruptedException}, because that is what the
     * policies treat as the caller stopping: a retry does not retry it, a breaker with its default
     * exclusions does not count it (not even one built with {@code isSuccessful(...)}, exclusions
     * coming first). The handlers unwrap it: the caller gets its cause. No stack trace: its cause has
     * the one that matters.
     */
    static final class Stop extends InterruptedException {
        private static final long serialVersionUID = 1L;

        Stop(Exception cause) {
            super(cause.getMessage());
            initCause(cause);
        }

        @Override
        public Throwable fillInStackTrace() {
            return this;
        }

        /** What the caller gets: the cause. */
        Exception outcome() {
            return (Exception) getCause();
        }
    }
}
