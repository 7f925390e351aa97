package dev.resilience.redis;

import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;

/**
 * What a distributed limiter decided for one request: enough to answer with HTTP 429 and the
 * {@code RateLimit-*} / {@code Retry-After} headers.
 *
 * <pre>{@code
 * Decision d = limiter.decide(tenant, 1);
 * if (!d.granted()) {
 *     response.status(429).header("Retry-After", d.delay().toSeconds() + 1);
 * }
 * response.header("RateLimit-Remaining", d.remaining());
 * }</pre>
 */
public final class Decision {

    /** Who decided. */
    public enum Source {
        /** Redis, by the shared limit. */
        REDIS,
        /** The failure mode {@link FailureMode#failOpen()}: Redis could not decide. */
        FAIL_OPEN,
        /** The failure mode {@link FailureMode#failClosed()}: Redis could not decide. */
        FAIL_CLOSED,
        /** A local limiter ({@link FailureMode#local(int)}): Redis could not decide. */
        LOCAL
    }

    private final boolean granted;
    private final int permits;
    private final long delayNanos;
    private final long remaining;
    private final long resetNanos;
    private final Source source;
    private final RequestNotPermittedException.Reason reason;
    private final FallbackCause cause;
    /** Gives a granted reservation back, or null; runs its action once however often it is called. */
    final Runnable undo;

    Decision(boolean granted, int permits, long delayNanos, long remaining, long resetNanos, Source source,
            RequestNotPermittedException.Reason reason, FallbackCause cause, Runnable undo) {
        this.granted = granted;
        this.permits = permits;
        this.delayNanos = delayNanos;
        this.remaining = remaining;
        this.resetNanos = resetNanos;
        this.source = source;
        this.reason = reason;
        this.cause = cause;
        if (undo == null) {
            this.undo = null;
        } else {
            // a second cancel would give the permits back again (the script cannot tell): only the first counts
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            this.undo = () -> {
                if (done.compareAndSet(false, true)) {
                    undo.run();
                }
            };
        }
    }

    /** Whether the permits were granted. */
    public boolean granted() {
        return granted;
    }

    /** How many permits were asked for. */
    public int permits() {
        return permits;
    }

    /**
     * Granted: how long to wait before acting (non-zero only for a reservation that was allowed to
     * wait). Refused: how long until the same request could be granted, or -1 if it never can
     * (more permits than the burst or the quota) or nobody knows (a {@code FAIL_CLOSED} decision).
     */
    public long delayNanos() {
        return delayNanos;
    }

    /** {@link #delayNanos()} as a duration; {@link Duration#ZERO} when it is -1. */
    public Duration delay() {
        return Duration.ofNanos(Math.max(0L, delayNanos));
    }

    /** Whole permits left after this decision (0 when reservations are outstanding); -1 if unknown. */
    public long remaining() {
        return remaining;
    }

    /**
     * How long until the limit is whole again: the bucket full, or the quota's window over; -1 if
     * unknown.
     */
    public long resetNanos() {
        return resetNanos;
    }

    /** Who decided. */
    public Source source() {
        return source;
    }

    /** Why the request was refused; null if it was granted. */
    public RequestNotPermittedException.Reason reason() {
        return reason;
    }

    /** Why Redis did not decide; null if it did. */
    public FallbackCause fallbackCause() {
        return cause;
    }

    @Override
    public String toString() {
        return "Decision[" + (granted ? "granted" : "refused " + reason) + ", permits " + permits + ", delay "
                + delayNanos + "ns, remaining " + remaining + ", reset " + resetNanos + "ns, " + source
                + (cause != null ? " (" + cause + ")" : "") + "]";
    }
}
