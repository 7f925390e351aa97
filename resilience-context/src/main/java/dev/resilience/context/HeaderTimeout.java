package dev.resilience.context;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A timeout read from a request header by {@link DeadlineHeaders}: present with a value, absent, or
 * rejected with a reason. Decoding never throws, so a hostile header cannot break a server path;
 * a rejected header means "no deadline" and its {@link #error()} says why.
 *
 * <pre>{@code
 * HeaderTimeout t = DeadlineHeaders.read(exchange.getRequestHeaders()::getFirst);
 * try (CancelHandle request = t.applyTo(Context.background()); Scope s = request.attach()) {
 *     handle(exchange);                // Context.current() carries the caller's deadline
 * }
 * }</pre>
 */
public final class HeaderTimeout {

    private static final HeaderTimeout ABSENT = new HeaderTimeout(null, -1L, null);

    private final String header;
    private final long nanos;
    private final String error;

    private HeaderTimeout(String header, long nanos, String error) {
        this.header = header;
        this.nanos = nanos;
        this.error = error;
    }

    static HeaderTimeout absent() {
        return ABSENT;
    }

    static HeaderTimeout of(String header, long nanos) {
        return new HeaderTimeout(header, nanos, null);
    }

    static HeaderTimeout rejected(String header, String error) {
        return new HeaderTimeout(header, -1L, error);
    }

    /** True if a valid timeout was read. */
    public boolean isPresent() {
        return nanos >= 0;
    }

    /** The timeout in nanoseconds (capped at {@link Deadline#MAX_OFFSET_NANOS}), or -1 if none. */
    public long nanos() {
        return nanos;
    }

    /** The timeout, if one was read. */
    public Optional<Duration> timeout() {
        return isPresent() ? Optional.of(Duration.ofNanos(nanos)) : Optional.empty();
    }

    /** Why the header was rejected, or null if it was valid or absent. */
    public String error() {
        return error;
    }

    /** The header the value came from, or null if none was present. */
    public String header() {
        return header;
    }

    /**
     * A child of {@code parent} with this timeout on the system ticker, or a plain cancellable child
     * when there is no valid timeout. The child's deadline is never later than the parent's.
     */
    public CancelHandle applyTo(Context parent) {
        return applyTo(parent, Ticker.system());
    }

    /** Like {@link #applyTo(Context)}, measuring the timeout on {@code ticker}. */
    public CancelHandle applyTo(Context parent, Ticker ticker) {
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(ticker, "ticker");
        return isPresent() ? parent.withTimeout(Duration.ofNanos(nanos), ticker) : parent.withCancel();
    }

    @Override
    public String toString() {
        if (isPresent()) {
            return "HeaderTimeout[" + header + ": " + nanos + "ns]";
        }
        return error == null ? "HeaderTimeout[absent]" : "HeaderTimeout[" + header + " rejected: " + error + "]";
    }
}
