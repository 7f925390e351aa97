package dev.resilience.redis;

import java.util.concurrent.CompletableFuture;

/**
 * A limit shared by every instance of a service, kept in Redis, one limit per key (tenant, API key,
 * downstream): {@link DistributedRateLimiter} (a token bucket) or {@link DistributedQuota} (a fixed
 * window). The methods never throw for Redis trouble: they decide by the {@link FailureMode}
 * within the backend's timeout.
 */
public interface DistributedLimiter {

    /** The limiter's name: part of its Redis keys, so instances with the same name share limits. */
    String name();

    /** Takes one permit for {@code key} if one is free now. */
    default boolean tryAcquire(String key) {
        return tryAcquire(key, 1);
    }

    /** Takes {@code permits} for {@code key} if all are free now; a refusal takes nothing. */
    default boolean tryAcquire(String key, int permits) {
        return decide(key, permits).granted();
    }

    /** {@link #tryAcquire(String, int)} with the details; blocks at most the backend's timeout. */
    Decision decide(String key, int permits);

    /** {@link #decide(String, int)} without blocking a thread; the stage never fails for Redis trouble. */
    CompletableFuture<Decision> decideAsync(String key, int permits);
}
