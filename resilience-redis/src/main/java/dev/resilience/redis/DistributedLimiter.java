package dev.resilience.redis;

import dev.resilience.context.Registration;
import dev.resilience.core.Policy;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

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

    /**
     * Adds a listener of this limiter's decisions, fallbacks and round trips, beside those given to
     * the builder (as a metrics binder does).
     *
     * @param listener the listener; what it throws is logged and never changes a decision
     * @return removes the listener again
     */
    Registration addListener(DistributedLimiterListener listener);

    /**
     * This limit, for one key, as a {@link Policy} that composes in a
     * {@link dev.resilience.core.Pipeline}: each call takes one permit of {@code key} (a rate
     * limiter waits as {@link DistributedRateLimiter#acquire(String, int)} does; the asynchronous
     * form and a quota never wait) and a refusal is a
     * {@link dev.resilience.core.RequestNotPermittedException} with refusal
     * {@code DISTRIBUTED_LIMITED}. Its kind is {@code RATE_LIMITER}.
     *
     * @param key the key every call counts against
     * @return the policy
     * @throws IllegalArgumentException if {@code key} is empty
     */
    Policy forKey(String key);

    /**
     * {@link #forKey(String)} with the key chosen per call, e.g. the tenant of the current request;
     * {@code key} runs on the calling thread, under the caller's context, once per call.
     *
     * @param key gives the key of each call; a null key fails the call with a
     *     {@link NullPointerException}, an empty one with an {@link IllegalArgumentException}
     * @return the policy
     */
    Policy forKey(Supplier<String> key);
}
