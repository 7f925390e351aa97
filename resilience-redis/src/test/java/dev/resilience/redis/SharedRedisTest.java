package dev.resilience.redis;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A test class whose tests share one redis-server and one connected backend (each test uses its own
 * limiter names, so they never share keys). Tests that stop or stall the server start their own.
 */
abstract class SharedRedisTest {

    static RedisTests tests;
    static RedisBackend backend;

    @BeforeAll
    static void startRedis() {
        tests = new RedisTests();
        backend = tests.backend();
    }

    @AfterAll
    static void stopRedis() {
        backend.close();
        tests.close();
    }
}
