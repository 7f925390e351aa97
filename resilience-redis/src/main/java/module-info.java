/**
 * Distributed rate limits and per-key quotas on Redis, through Lettuce: see
 * {@link dev.resilience.redis.DistributedRateLimiter}, {@link dev.resilience.redis.DistributedQuota}
 * and {@link dev.resilience.redis.RedisBackend}.
 */
module dev.resilience.redis {
    requires transitive dev.resilience.core;
    requires transitive lettuce.core;

    exports dev.resilience.redis;
}
