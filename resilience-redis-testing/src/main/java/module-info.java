/**
 * Test support for services that use resilience-redis: {@link dev.resilience.redis.testing.RedisServer}
 * starts a real {@code redis-server} on a free loopback port. No dependencies outside the JDK; add it
 * with {@code <scope>test</scope>}.
 */
module dev.resilience.redis.testing {
    exports dev.resilience.redis.testing;
}
