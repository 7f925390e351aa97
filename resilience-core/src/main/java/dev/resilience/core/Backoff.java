package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * How long to wait before a retry. Implementations are pure functions of the retry number, the
 * previous delay and a random source, so tests can pin every delay.
 *
 * <pre>{@code
 * Backoff.fixed(Duration.ofMillis(200));
 * Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofSeconds(5));                  // 100, 200, 400 ... 5000
 * Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofSeconds(5), Jitter.FULL);     // uniform in [0, that]
 * }</pre>
 */
@FunctionalInterface
public interface Backoff {

    /** AWS's jitter flavours ("Exponential Backoff And Jitter"). */
    enum Jitter {
        /** The delay as computed. */
        NONE,
        /** Uniform in [0, delay]. */
        FULL,
        /** delay/2 plus uniform in [0, delay/2]. */
        EQUAL,
        /** Uniform in [initial, 3 x previous delay], capped: spreads retries without growing in lock step. */
        DECORRELATED
    }

    /**
     * The delay before retry number {@code retry}.
     *
     * @param retry 1 for the first retry (the second attempt), 2 for the next ...
     * @param previousNanos the delay used before the previous retry (0 before the first)
     * @param random uniform in [0, 1)
     * @return nanoseconds, not negative
     */
    long delayNanos(int retry, long previousNanos, DoubleSupplier random);

    /** The same delay every time. */
    static Backoff fixed(Duration delay) {
        long nanos = Checks.nonNegativeNanos(delay, "delay");
        return (retry, previous, random) -> nanos;
    }

    /** {@code initial x multiplier^(retry-1)}, at most {@code max}, without jitter. */
    static Backoff exponential(Duration initial, double multiplier, Duration max) {
        return exponential(initial, multiplier, max, Jitter.NONE);
    }

    /** {@code initial x multiplier^(retry-1)}, at most {@code max}, with {@code jitter}. */
    static Backoff exponential(Duration initial, double multiplier, Duration max, Jitter jitter) {
        long base = Checks.positiveNanos(initial, "initial");
        long cap = Checks.positiveNanos(max, "max");
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("multiplier must be at least 1: " + multiplier);
        }
        if (cap < base) {
            throw new IllegalArgumentException("max must be at least initial: " + max + " < " + initial);
        }
        java.util.Objects.requireNonNull(jitter, "jitter");
        return (retry, previous, random) -> {
            double raw = base * Math.pow(multiplier, retry - 1);
            long delay = raw >= cap ? cap : (long) raw;
            switch (jitter) {
                case FULL:
                    return (long) (random.getAsDouble() * delay);
                case EQUAL:
                    return delay / 2 + (long) (random.getAsDouble() * (delay - delay / 2));
                case DECORRELATED:
                    // 3 x previous saturates at the cap (a cap near 2^62 made it wrap negative)
                    long upper = Math.min(cap, Math.max(base, previous == 0 ? base : previous > cap / 3 ? cap : 3 * previous));
                    return Math.min(cap, base + (long) (random.getAsDouble() * (upper - base)));
                default:
                    return delay;
            }
        };
    }
}
