package dev.resilience.context;

import java.time.Duration;
import java.util.Objects;

/**
 * A point in time on a {@link Ticker}: the deadline of a {@link Context}.
 *
 * <p>Deadlines compare by subtraction, so they must lie within {@link #MAX_OFFSET_NANOS} (about 146
 * years) of the ticker's reading; {@link #after} caps longer timeouts at that offset.
 *
 * <pre>{@code
 * Deadline d = Deadline.after(Duration.ofMillis(250), Ticker.system());
 * try (CancelHandle h = Context.current().withDeadline(d)) { ... }
 * }</pre>
 */
public final class Deadline implements Comparable<Deadline> {

    /** The furthest a deadline may lie from its ticker's reading: 2^62 ns, about 146 years. */
    public static final long MAX_OFFSET_NANOS = 1L << 62;

    private final Ticker ticker;
    private final long nanos;

    private Deadline(Ticker ticker, long nanos) {
        this.ticker = ticker;
        this.nanos = nanos;
    }

    /**
     * A deadline at the given reading of {@code ticker}.
     *
     * @throws IllegalArgumentException if {@code nanos} lies further than {@link #MAX_OFFSET_NANOS}
     *     from the ticker's current reading
     */
    public static Deadline at(long nanos, Ticker ticker) {
        Objects.requireNonNull(ticker, "ticker");
        checkOffset(nanos, ticker.read());
        return new Deadline(ticker, nanos);
    }

    /**
     * A deadline at {@code nanos}, not checked against the ticker's reading: for a context's deadline,
     * checked when it was set, whose ticker may since have been set far back by hand.
     */
    static Deadline unchecked(long nanos, Ticker ticker) {
        return new Deadline(ticker, nanos);
    }

    /**
     * A deadline {@code timeout} after the current reading of {@code ticker}.
     *
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public static Deadline after(Duration timeout, Ticker ticker) {
        Objects.requireNonNull(ticker, "ticker");
        return new Deadline(ticker, ticker.read() + timeoutNanos(timeout));
    }

    /** The ticker this deadline is measured on. */
    public Ticker ticker() {
        return ticker;
    }

    /** The ticker reading at which the deadline passes. */
    public long nanos() {
        return nanos;
    }

    /** Nanoseconds left until the deadline; zero or negative once it has passed. */
    public long remainingNanos() {
        return nanos - ticker.read();
    }

    /** Time left until the deadline, never negative. */
    public Duration remaining() {
        return Duration.ofNanos(Math.max(0L, remainingNanos()));
    }

    /** True once the ticker has reached the deadline. */
    public boolean isExpired() {
        return remainingNanos() <= 0;
    }

    /** True if this deadline passes before {@code other}. */
    public boolean isBefore(Deadline other) {
        return compareTo(other) < 0;
    }

    /**
     * Orders by time of expiry. Deadlines on different tickers are compared by their remaining time,
     * read now.
     */
    @Override
    public int compareTo(Deadline other) {
        if (other.ticker == ticker) {
            return Long.signum(nanos - other.nanos);
        }
        return Long.compare(remainingNanos(), other.remainingNanos());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Deadline && ((Deadline) o).ticker == ticker && ((Deadline) o).nanos == nanos;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(ticker) * 31 + Long.hashCode(nanos);
    }

    @Override
    public String toString() {
        return "Deadline[" + remainingNanos() + "ns from now on " + ticker + "]";
    }

    /** Validates a timeout and converts it to nanoseconds, capped at {@link #MAX_OFFSET_NANOS}. */
    static long timeoutNanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        if (timeout.getSeconds() >= MAX_OFFSET_NANOS / 1_000_000_000L) {
            return MAX_OFFSET_NANOS;
        }
        return Math.min(timeout.toNanos(), MAX_OFFSET_NANOS);
    }

    static void checkOffset(long nanos, long now) {
        long offset = nanos - now;
        boolean overflow = ((nanos ^ now) & (nanos ^ offset)) < 0;
        if (overflow || offset > MAX_OFFSET_NANOS || offset < -MAX_OFFSET_NANOS) {
            throw new IllegalArgumentException(
                    "deadline must lie within 2^62 ns of the ticker's reading " + now + ": " + nanos);
        }
    }
}
