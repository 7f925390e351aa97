package dev.resilience.redis;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Delays;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RefusedException;
import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Function;

/**
 * A token bucket per key shared by every instance through Redis, with the semantics of the local
 * {@link RateLimiter} (Go's {@code x/time/rate}): permits refill at {@code rate} per second up to
 * {@code burst}; a new or idle key starts full.
 *
 * <pre>{@code
 * DistributedRateLimiter limiter = DistributedRateLimiter.builder("partner-api", redis)
 *         .rate(100).burst(20)                        // the default for every key
 *         .override("tenant-gold", Limit.of(1000, 200))
 *         .failureMode(FailureMode.local(4))          // 4 instances: each takes 25/s while Redis is down
 *         .build();
 *
 * if (limiter.tryAcquire("tenant-42")) { ... }        // one round trip, no wait
 * Decision d = limiter.decide("tenant-42", 1);        // the same, with remaining / retry-after
 * limiter.acquire("tenant-42", 1);                    // waits under Context.current()'s deadline
 * }</pre>
 *
 * <p><b>How.</b> Each decision is one {@code EVALSHA} of a GCRA script: the key holds the
 * theoretical arrival time, computed from Redis's own {@code TIME} (instances never compare clocks),
 * and expires when the bucket is full again, so idle keys disappear. A refusal changes nothing.
 * Default keys: {@code resilience:rate:<name>:{<key>}} (the key a hash tag).
 *
 * <p><b>Waiting.</b> {@link #acquire(String, int)} reserves in the same round trip (the script
 * grants a reservation whose delay is shorter than the wait allowed: the context's remaining time,
 * capped by {@code maxWait}), then sleeps the delay on the limiter's ticker; if the context ends or
 * the thread is interrupted during the sleep, the reservation is given back as far as nobody
 * reserved after it. {@link #reserve(String, int, Duration)} gives the reservation to the caller.
 *
 * <p><b>When Redis cannot decide</b> (breaker open, timeout, error) the {@link FailureMode} does,
 * within the backend's timeout; the local mode keeps one {@link RateLimiter} per key (at most {@code localKeys},
 * default 100,000 keys: full buckets are dropped first, then the least recently used).
 */
public final class DistributedRateLimiter extends KeyedLimiter<Limit, RateLimiter> {

    private final long maxWaitNanos;

    private DistributedRateLimiter(Builder b) {
        super(b, Script.GCRA);
        this.maxWaitNanos = b.maxWaitNanos;
    }

    /** Starts building; {@code name} is part of the Redis keys, so instances with one name share limits. */
    public static Builder builder(String name, RedisBackend backend) {
        return new Builder(name, backend);
    }

    /** The limit {@code key} gets: its override, else the resolver's, else the default. */
    public Limit limit(String key) {
        return limitFor(Args.key(key));
    }

    /**
     * Waits until {@code permits} of {@code key} are available, under {@link Context#current()}; Go's
     * {@code WaitN}.
     *
     * @throws RequestNotPermittedException at once, consuming nothing, when the permits exceed the
     *     burst, the wait would pass the context's deadline or {@code maxWait}, or Redis cannot decide
     *     and the failure mode refuses
     * @throws ContextDoneException if the context is done before or during the wait, including
     *     while Redis has not answered yet (a reservation is given back)
     * @throws InterruptedException if interrupted during the wait (a reservation is given back)
     */
    public void acquire(String key, int permits) throws InterruptedException {
        Context ctx = Context.current();
        ctx.throwIfDone();
        Decision d = awaitUnder(ctx, evaluateWithin(ctx, key, permits));
        if (!d.granted()) {
            throw refusal(d);
        }
        long delay = d.delayNanos();
        if (delay > 0) {
            try {
                ctx.sleepUntil(ticker, ticker.read() + delay);
            } catch (InterruptedException | ContextDoneException e) {
                cancel(d);
                throw e;
            }
        }
    }

    /**
     * Asks for {@code permits} granting a wait no longer than the context's remaining time and
     * {@code maxWait}; a refusal for the wait says which of the two was shorter.
     */
    private CompletableFuture<Decision> evaluateWithin(Context ctx, String key, int permits) {
        long remaining = ctx.remainingNanos();
        long budget = Math.max(0L, Math.min(remaining, maxWaitNanos));
        RequestNotPermittedException.Reason waitReason = maxWaitNanos < remaining
                ? RequestNotPermittedException.Reason.NO_PERMIT
                : RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE;
        return evaluate(key, permits, budget, waitReason);
    }

    /**
     * {@link #acquire(String, int)} without blocking a thread: the returned stage completes once
     * the permits are available, waiting on the limiter's ticker and never past the context's
     * deadline or {@code maxWait}. It fails with {@link RequestNotPermittedException} (nothing
     * consumed) when they cannot be had in time, and with the context's exception if the context
     * ends first; a reservation Redis granted for later is then given back, as it is when the
     * caller cancels the stage during the wait (permits granted at once are the caller's). The stage
     * completes on the common pool, never on Redis's I/O threads. Never throws.
     *
     * @param key the key
     * @param permits at least 1
     * @return a stage that completes when the permits are the caller's
     */
    public CompletableFuture<Void> acquireAsync(String key, int permits) {
        Context ctx = Context.current();
        CompletableFuture<Decision> decision;
        try {
            ctx.throwIfDone();
            decision = evaluateWithin(ctx, key, permits);
        } catch (Throwable e) { // a key resolver's Error or checked exception too: never thrown, as documented
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        Registration whileAsking = ctx.onDone(() -> result.completeExceptionally(ctx.err()), Runnable::run);
        decision.whenCompleteAsync((d, e) -> { // never on Redis's I/O thread: the caller's continuations run here
            whileAsking.remove();
            if (e != null) {
                result.completeExceptionally(RedisBackend.unwrap(e));
            } else if (!d.granted()) {
                result.completeExceptionally(refusal(d));
            } else if (result.isDone()) {
                cancel(d); // the context ended or the caller cancelled while Redis decided
            } else if (d.delayNanos() <= 0) {
                if (!result.complete(null)) {
                    cancel(d);
                }
            } else {
                Registration waiting = Delays.scheduleUnlessDone(ticker, ticker.read() + d.delayNanos(), ctx,
                        () -> {
                            if (!result.complete(null)) {
                                cancel(d);
                            }
                        },
                        () -> {
                            cancel(d);
                            result.completeExceptionally(ctx.err());
                        });
                result.whenComplete((v, failure) -> {
                    if (failure != null && waiting.remove()) {
                        cancel(d); // cancelled by the caller during the wait
                    }
                });
            }
        }, ForkJoinPool.commonPool());
        return result;
    }

    /**
     * Reserves {@code permits} of {@code key} if they are available within {@code maxWait} (Go's
     * {@code ReserveN} with a bound): a granted decision's {@link Decision#delayNanos()} says how
     * long to wait before acting; {@link #cancel(Decision)} gives the permits back.
     */
    public Decision reserve(String key, int permits, Duration maxWait) {
        long wait = Checks.nonNegativeNanos(maxWait, "maxWait");
        return evaluate(key, permits, wait, RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE).join();
    }

    /**
     * Gives back the permits of a granted {@link #reserve reservation} whose time has not come, as far
     * as nobody reserved after it (Go's {@code Reservation.Cancel}); does nothing otherwise. Best
     * effort: a Redis failure leaves the permits spent.
     */
    public void cancel(Decision reservation) {
        if (reservation.undo != null) {
            reservation.undo.run();
        }
    }

    /**
     * Keeps {@code limit} for {@code key} in Redis, for every instance's next decision (the
     * limiter must be built with {@code limitsInRedis()}). Waits at most the backend's timeout.
     *
     * @param key the key
     * @param limit its limit
     * @throws IllegalStateException if limits are not kept in Redis, or Redis could not store it
     */
    public void setLimit(String key, Limit limit) {
        Objects.requireNonNull(limit, "limit");
        storeLimit(key, "interval", limit.intervalArg, "burst", limit.burstArg);
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
    void enter(String key) throws InterruptedException {
        acquire(key, 1);
    }

    @Override
    RequestNotPermittedException refusal(Decision d) {
        String message = switch (d.source()) {
            case FAIL_CLOSED -> "Redis could not decide (" + d.fallbackCause() + ") and the limiter fails closed";
            default -> switch (d.reason()) {
                case EXCEEDS_BURST -> d.permits() + " permit(s) exceed the burst";
                case WOULD_PASS_DEADLINE -> "waiting for " + d.permits() + " permit(s) would pass the context deadline";
                default -> "no permit within the limiter's maxWait of " + Duration.ofNanos(maxWaitNanos);
            };
        };
        return new RequestNotPermittedException(name, d.reason(), RefusedException.Refusal.DISTRIBUTED_LIMITED, message);
    }

    @Override
    String[] arguments(Limit limit, int permits, long maxWaitNanos) {
        return new String[] {limit.intervalArg, limit.burstArg, Integer.toString(permits), waitArgument(maxWaitNanos)};
    }

    @Override
    Runnable undo(String key, Limit limit, int permits, String token) {
        // the token is "arrival:interval:burst": give back with what the grant used
        String[] parts = token.split(":");
        String[] keys = {redisKey(key)};
        String[] args = parts.length == 3
                ? new String[] {parts[1], parts[2], Integer.toString(permits), parts[0]}
                : new String[] {limit.intervalArg, limit.burstArg, Integer.toString(permits), token};
        return () -> backend.eval(Script.GCRA_CANCEL, keys, args);
    }

    @Override
    RateLimiter newLocal(String key, Limit limit, int instances) {
        return RateLimiter.builder(name + ":" + key)
                .rate(limit.rate() / instances)
                .burst(Math.max(1, limit.burst() / instances))
                .ticker(ticker)
                .build();
    }

    @Override
    boolean isIdle(RateLimiter local, long now) {
        return local.tokens() >= local.burst();
    }

    @Override
    Decision decideLocally(RateLimiter local, int permits, long maxWaitNanos,
            RequestNotPermittedException.Reason waitReason, FallbackCause cause) {
        if (permits > local.burst()) {
            return new Decision(false, permits, -1L, remaining(local), -1L, Decision.Source.LOCAL,
                    RequestNotPermittedException.Reason.EXCEEDS_BURST, cause, null);
        }
        if (maxWaitNanos == 0) {
            if (local.tryAcquire(permits)) {
                return new Decision(true, permits, 0L, remaining(local), -1L, Decision.Source.LOCAL, null, cause, null);
            }
            // a local limit with no rate never refills: -1, "never", as the Decision says (not Long.MAX_VALUE)
            long delay = local.rate() > 0 ? (long) Math.ceil((permits - local.tokens()) * 1e9 / local.rate()) : -1L;
            return new Decision(false, permits, delay, remaining(local), -1L, Decision.Source.LOCAL, waitReason,
                    cause, null);
        }
        RateLimiter.Reservation r = local.reserve(permits);
        long delay = r.delayNanos();
        if (delay > 0 && maxWaitNanos != Long.MAX_VALUE && delay >= maxWaitNanos) {
            r.cancel();
            return new Decision(false, permits, delay, remaining(local), -1L, Decision.Source.LOCAL, waitReason,
                    cause, null);
        }
        return new Decision(true, permits, delay, remaining(local), -1L, Decision.Source.LOCAL, null, cause,
                delay > 0 ? r::cancel : null);
    }

    private static long remaining(RateLimiter local) {
        return Math.max(0L, (long) Math.floor(local.tokens()));
    }

    /** Builds a {@link DistributedRateLimiter}; {@link #rate(double)} is required. */
    public static final class Builder extends KeyedLimiter.Builder<Limit, Builder> {
        private double rate = Double.NaN;
        private int burst = -1;
        private long maxWaitNanos = Long.MAX_VALUE;
        private boolean maxWaitSet;

        private Builder(String name, RedisBackend backend) {
            super(name, backend, "rate");
        }

        /** Permits per second for every key without an override: positive, at most 10^6. */
        public Builder rate(double permitsPerSecond) {
            Checks.once(Double.isNaN(rate), "rate");
            Limit.of(permitsPerSecond, 1);
            this.rate = permitsPerSecond;
            return this;
        }

        /** The most permits at once for every key without an override; default 1. */
        public Builder burst(int burst) {
            Checks.once(this.burst < 0, "burst");
            if (burst < 1) {
                throw new IllegalArgumentException("burst must be at least 1: " + burst);
            }
            this.burst = burst;
            return this;
        }

        /** {@code key}'s own limit. */
        public Builder override(String key, Limit limit) {
            addOverride(key, java.util.Objects.requireNonNull(limit, "limit"));
            return this;
        }

        /**
         * Limits looked up per call for keys without an override (e.g. from a tenant's plan); null
         * means the default. Must be fast: it runs on every decision.
         */
        public Builder limits(Function<String, Limit> limits) {
            setResolver(limits);
            return this;
        }

        /** The longest {@code acquire} waits, whatever the context allows; default no cap. */
        public Builder maxWait(Duration maxWait) {
            Checks.once(!maxWaitSet, "maxWait");
            this.maxWaitNanos = Checks.nonNegativeNanos(maxWait, "maxWait");
            this.maxWaitSet = true;
            return this;
        }

        /** Builds the limiter; does not touch Redis. */
        public DistributedRateLimiter build() {
            if (Double.isNaN(rate)) {
                throw new IllegalStateException("rate(...) is required");
            }
            defaultLimit = Limit.of(rate, burst < 0 ? 1 : burst);
            return new DistributedRateLimiter(this);
        }
    }
}
