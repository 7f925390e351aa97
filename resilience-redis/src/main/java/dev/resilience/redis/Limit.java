package dev.resilience.redis;

/**
 * A token-bucket limit: {@code rate} permits per second, at most {@code burst} at once. Immutable;
 * used for the default and the per-key overrides of a {@link DistributedRateLimiter}.
 *
 * <pre>{@code
 * Limit gold = Limit.of(500, 100);   // 500/s, bursts of 100
 * }</pre>
 */
public final class Limit {

    private final double rate;
    private final int burst;
    /** The scripts' arguments: microseconds per permit, and the burst. */
    final String intervalArg;
    final String burstArg;

    private Limit(double rate, int burst) {
        this.rate = rate;
        this.burst = burst;
        this.intervalArg = Double.toString(1e6 / rate);
        this.burstArg = Integer.toString(burst);
    }

    /**
     * @param permitsPerSecond positive and finite, at most 10^6 (a Redis-backed limit serves far
     *     less; the scripts keep time in microseconds)
     * @param burst at least 1
     */
    public static Limit of(double permitsPerSecond, int burst) {
        if (Double.isNaN(permitsPerSecond) || permitsPerSecond <= 0 || permitsPerSecond > 1e6) {
            throw new IllegalArgumentException("permitsPerSecond must be in (0, 1e6]: " + permitsPerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1: " + burst);
        }
        if (burst / permitsPerSecond > 1e9) {
            throw new IllegalArgumentException("burst / permitsPerSecond must be at most 1e9 s: " + burst + " / "
                    + permitsPerSecond);
        }
        return new Limit(permitsPerSecond, burst);
    }

    /** Permits per second. */
    public double rate() {
        return rate;
    }

    /** The most permits available at once. */
    public int burst() {
        return burst;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Limit l && l.rate == rate && l.burst == burst;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(rate) * 31 + burst;
    }

    @Override
    public String toString() {
        return rate + "/s burst " + burst;
    }
}
