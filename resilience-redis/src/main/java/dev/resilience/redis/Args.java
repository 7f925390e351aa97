package dev.resilience.redis;

import java.time.Duration;
import java.util.Objects;

/** The argument checks this package's builders and methods share; each names what it rejects. */
final class Args {
    /** Durations are capped (about 146 years) so that ticker arithmetic cannot overflow. */
    static final long MAX_NANOS = Long.MAX_VALUE / 2;

    private Args() {
    }

    static void once(boolean unset, String what) {
        if (!unset) {
            throw new IllegalStateException(what + " was already set");
        }
    }

    static long positiveNanos(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive: " + d);
        }
        return d.getSeconds() >= MAX_NANOS / 1_000_000_000L ? MAX_NANOS : Math.min(d.toNanos(), MAX_NANOS);
    }

    static long nonNegativeNanos(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + d);
        }
        return d.isZero() ? 0L : positiveNanos(d, what);
    }

    static void permits(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1: " + permits);
        }
    }

    static String key(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key must not be empty");
        }
        return key;
    }
}
