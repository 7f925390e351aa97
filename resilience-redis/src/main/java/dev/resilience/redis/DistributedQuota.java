package dev.resilience.redis;

import dev.resilience.context.Context;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.Ticker;
import dev.resilience.core.RefusedException;
import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A fixed-window quota per key shared by every instance through Redis: at most {@code limit}
 * permits per {@code window} (say 1,000 requests per tenant per minute), the classic
 * {@code INCR} + {@code EXPIRE} counter made atomic and exact.
 *
 * <pre>{@code
 * DistributedQuota quota = DistributedQuota.builder("tenant-requests", redis)
 *         .limit(1000).window(Duration.ofMinutes(1))
 *         .override("tenant-gold", 10_000)
 *         .build();
 *
 * Decision d = quota.decide(tenantId, 1);
 * if (!d.granted()) { reply429(d.delay()); }          // the delay runs to the window's end
 * }</pre>
 *
 * <p><b>How.</b> One script call per decision, on Redis's own clock: windows are aligned to the
 * Unix epoch (a one-minute window is a calendar minute on the Redis server), the key holds the
 * window's number and the permits used in it and expires at the window's end. A refusal counts
 * nothing (unlike a bare {@code INCR}, so a client hammering a spent quota does not push its count
 * up). Default keys: {@code resilience:quota:<name>:{<key>}} (the key a hash tag).
 *
 * <p><b>When Redis cannot decide</b> the {@link FailureMode} does; the local mode keeps one window
 * per key on the limiter's ticker with {@code max(1, limit / instances)} permits (at most {@code localKeys}, default 100,000 keys: full buckets are dropped first, then the least recently used).
 */
public final class DistributedQuota extends KeyedLimiter<DistributedQuota.Quota, DistributedQuota.LocalWindow> {

    private final long windowNanos;
    private final String windowArg;

    private DistributedQuota(Builder b) {
        super(b, Script.QUOTA);
        this.windowNanos = b.windowNanos;
        this.windowArg = Double.toString(b.windowNanos / 1000.0);
    }

    /** Starts building; {@code name} is part of the Redis keys, so instances with one name share quotas. */
    public static Builder builder(String name, RedisBackend backend) {
        return new Builder(name, backend);
    }

    /** The permits per window {@code key} gets: its override, else the resolver's, else the default. */
    public long limit(String key) {
        return limitFor(Args.key(key)).limit;
    }

    /** The window's length. */
    public Duration window() {
        return Duration.ofNanos(windowNanos);
    }

    /**
     * Keeps {@code limit} (permits per window) for {@code key} in Redis, for every instance's next
     * decision (the quota must be built with {@code limitsInRedis()}).
     *
     * @param key the key
     * @param limit permits per window, in [1, 10^15] (what the scripts accept from Redis)
     * @throws IllegalStateException if limits are not kept in Redis, or Redis could not store it
     * @throws IllegalArgumentException if {@code limit} is out of range
     */
    public void setLimit(String key, long limit) {
        if (limit > 1_000_000_000_000_000L) {
            throw new IllegalArgumentException("limit kept in Redis must be in [1, 10^15]: " + limit);
        }
        storeLimit(key, "limit", new Quota(limit).arg);
    }

    /**
     * Removes the limit kept in Redis for {@code key}: the limits in code apply again.
     *
     * @param key the key
     * @throws IllegalStateException if limits are not kept in Redis, or Redis could not remove it
     */
    public void clearLimit(String key) {
        storeLimit(key);
    }

    @Override
    void enter(String key) {
        Context ctx = Context.current();
        ctx.throwIfDone();
        Decision d = awaitUnder(ctx, decideAsync(key, 1));
        if (!d.granted()) {
            throw refusal(d);
        }
    }

    @Override
    RequestNotPermittedException refusal(Decision d) {
        String message = d.source() == Decision.Source.FAIL_CLOSED
                ? "Redis could not decide (" + d.fallbackCause() + ") and the quota fails closed"
                : "the quota of this window is used up";
        return new RequestNotPermittedException(name, d.reason() == null ? RequestNotPermittedException.Reason.NO_PERMIT
                : d.reason(), RefusedException.Refusal.DISTRIBUTED_LIMITED, message);
    }

    @Override
    String[] arguments(Quota quota, int permits, long maxWaitNanos) {
        return new String[] {windowArg, quota.arg, Integer.toString(permits)};
    }

    @Override
    Runnable undo(String key, Quota quota, int permits, String token) {
        return null;
    }

    @Override
    LocalWindow newLocal(String key, Quota quota, int instances) {
        return new LocalWindow(Math.max(1L, quota.limit / instances), windowNanos, ticker);
    }

    @Override
    boolean isIdle(LocalWindow local, long now) {
        return local.isIdle(now);
    }

    @Override
    Decision decideLocally(LocalWindow local, int permits, long maxWaitNanos,
            RequestNotPermittedException.Reason waitReason, FallbackCause cause) {
        return local.take(permits, cause);
    }

    /** A key's permits per window, with its script argument. */
    static final class Quota {
        final long limit;
        final String arg;

        Quota(long limit) {
            if (limit < 1 || limit > (1L << 53)) {
                throw new IllegalArgumentException("limit must be in [1, 2^53]: " + limit);
            }
            this.limit = limit;
            this.arg = Long.toString(limit);
        }

        @Override
        public String toString() {
            return Long.toString(limit);
        }
    }

    /**
     * The local fallback: a fixed window on the ticker. One small object per grant (fallback only).
     * The state is the reading at which the window in use starts, and the permits used in it;
     * readings are compared by their difference, so a ticker that wraps past {@code Long.MAX_VALUE}
     * moves on to the next window, and one set back stays in the window it had reached.
     */
    static final class LocalWindow {
        private final long limit;
        private final long windowNanos;
        private final Ticker ticker;
        /**
         * Windows are counted from this reading (the first), not from 0: so they stay regular where the
         * readings wrap past {@code Long.MAX_VALUE} (a ticker's readings have no epoch of their own).
         */
        private final long origin;
        /** {start of the window in use, permits used in it}; nothing used yet: {any, 0}. */
        private final AtomicReference<long[]> state = new AtomicReference<>(new long[] {0L, 0});

        LocalWindow(long limit, long windowNanos, Ticker ticker) {
            this.limit = limit;
            this.windowNanos = windowNanos;
            this.ticker = ticker;
            this.origin = ticker.read();
        }

        /** The reading at which the window holding {@code now} starts. */
        private long startOf(long now) {
            return now - Math.floorMod(now - origin, windowNanos);
        }

        /**
         * The window a take at {@code start} counts in: its own, or a later one already used (the
         * ticker was set back: that window's permits are spent until the reading is past it again,
         * a fresh window would grant them twice).
         */
        private static long windowFor(long[] s, long start) {
            return s[1] != 0 && s[0] - start > 0 ? s[0] : start;
        }

        /** Nothing used in the current window, nor in a later one: a new window would be the same. */
        boolean isIdle(long now) {
            long[] s = state.get();
            return s[1] == 0 || s[0] - startOf(now) < 0;
        }

        Decision take(int permits, FallbackCause cause) {
            long now = ticker.read();
            long start = startOf(now);
            for (;;) {
                long[] s = state.get();
                long window = windowFor(s, start);
                long used = s[1] != 0 && s[0] == window ? s[1] : 0;
                long ahead = window - now; // at most 0, unless a ticker set back left a later window in use
                long reset = ahead > Long.MAX_VALUE / 2 - windowNanos ? Long.MAX_VALUE / 2 : ahead + windowNanos;
                if (permits > limit) {
                    return new Decision(false, permits, -1L, limit - used, reset, Decision.Source.LOCAL,
                            RequestNotPermittedException.Reason.EXCEEDS_BURST, cause, null);
                }
                if (used + permits > limit) {
                    return new Decision(false, permits, reset, limit - used, reset, Decision.Source.LOCAL,
                            RequestNotPermittedException.Reason.NO_PERMIT, cause, null);
                }
                if (state.compareAndSet(s, new long[] {window, used + permits})) {
                    return new Decision(true, permits, 0L, limit - used - permits, reset, Decision.Source.LOCAL, null,
                            cause, null);
                }
            }
        }
    }

    /** Builds a {@link DistributedQuota}; {@link #limit(long)} and {@link #window(Duration)} are required. */
    // The shared builder base is typed by the package-private Quota; no public method takes or returns one.
    @SuppressWarnings("exports")
    public static final class Builder extends KeyedLimiter.Builder<Quota, Builder> {
        private long limit = -1;
        private long windowNanos = -1;

        private Builder(String name, RedisBackend backend) {
            super(name, backend, "quota");
        }

        /** Permits per window for every key without an override: 1 to 2^53. */
        public Builder limit(long limit) {
            Checks.once(this.limit < 0, "limit");
            new Quota(limit);
            this.limit = limit;
            return this;
        }

        /** The window: at least 1 ms, aligned to the Unix epoch on the Redis server's clock. */
        public Builder window(Duration window) {
            Checks.once(windowNanos < 0, "window");
            long nanos = Checks.positiveNanos(window, "window");
            if (nanos < 1_000_000L || nanos > 1_000_000_000L * 86_400 * 3650) {
                throw new IllegalArgumentException("window must be between 1 ms and 10 years: " + window);
            }
            this.windowNanos = nanos;
            return this;
        }

        /** {@code key}'s own permits per window. */
        public Builder override(String key, long limit) {
            addOverride(key, new Quota(limit));
            return this;
        }

        /**
         * Limits looked up per call for keys without an override; null means the default. A limit
         * above 2^53 (such as {@code Long.MAX_VALUE} for "unlimited") counts as 2^53, the most a
         * window can hold; one below 1 is a configuration error: the call for that key throws an
         * {@code IllegalArgumentException} naming the key and the value.
         */
        public Builder limits(Function<String, Long> limits) {
            Objects.requireNonNull(limits, "limits");
            setResolver(key -> {
                Long l = limits.apply(key);
                if (l == null) {
                    return null;
                }
                if (l < 1) {
                    throw new IllegalArgumentException("limits(\"" + key + "\") returned " + l
                            + ": a key's limit must be at least 1");
                }
                return new Quota(Math.min(l, 1L << 53));
            });
            return this;
        }

        /** Builds the quota; does not touch Redis. */
        public DistributedQuota build() {
            if (limit < 0 || windowNanos < 0) {
                throw new IllegalStateException("limit(...) and window(...) are required");
            }
            defaultLimit = new Quota(limit);
            return new DistributedQuota(this);
        }
    }
}
