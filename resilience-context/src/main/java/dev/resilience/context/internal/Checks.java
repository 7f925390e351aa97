package dev.resilience.context.internal;

import dev.resilience.context.Deadline;
import java.time.Duration;
import java.util.Objects;

/**
 * The argument checks every module's builders share, each naming what it rejects. Internal: exported
 * only to the toolkit's own modules, not part of the API.
 */
public final class Checks {
    /** Durations are capped where deadlines are, so ticker arithmetic cannot overflow (about 146 years). */
    public static final long MAX_NANOS = Deadline.MAX_OFFSET_NANOS;

    private Checks() {
    }

    /**
     * Set-once setters: a second call hides a bug.
     *
     * @throws IllegalStateException naming {@code what} if it was set already
     */
    public static void once(boolean unset, String what) {
        if (!unset) {
            throw new IllegalStateException(what + " was already set");
        }
    }

    /**
     * A positive duration in nanoseconds, capped at {@link #MAX_NANOS}.
     *
     * @throws NullPointerException naming {@code what} if {@code d} is null
     * @throws IllegalArgumentException naming {@code what} if {@code d} is zero or negative
     */
    public static long positiveNanos(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive: " + d);
        }
        return cappedNanos(d);
    }

    /**
     * A non-negative duration in nanoseconds, capped at {@link #MAX_NANOS}.
     *
     * @throws NullPointerException naming {@code what} if {@code d} is null
     * @throws IllegalArgumentException naming {@code what} if {@code d} is negative
     */
    public static long nonNegativeNanos(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + d);
        }
        return cappedNanos(d);
    }

    private static long cappedNanos(Duration d) {
        return d.getSeconds() >= MAX_NANOS / 1_000_000_000L ? MAX_NANOS : Math.min(d.toNanos(), MAX_NANOS);
    }
}
