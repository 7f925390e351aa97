package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.ManualTicker;
import dev.resilience.core.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One key's bad data stays that key's problem, and the local fallback keeps enforcing its limits
 * when it has to bound its memory: issue 17's points 1 and 2, against a real redis-server.
 */
@Timeout(120)
class FaultIsolationTest {

    static RedisTests tests;

    @BeforeAll
    static void startRedis() {
        tests = new RedisTests();
    }

    @AfterAll
    static void stopRedis() {
        tests.close();
    }

    @Test
    void aKeyWithTheWrongTypeFallsBackAloneAndNeverOpensTheBreaker() {
        try (RedisBackend backend = tests.backend()) {
            String name = RedisTests.uniqueName("iso");
            List<Decision> fallbacks = new ArrayList<>();
            DistributedRateLimiter limiter = DistributedRateLimiter.builder(name, backend).rate(100).burst(10)
                    .listener(new DistributedLimiterListener() {
                        @Override
                        public void onFallback(DistributedLimiter l, FallbackCause cause, Throwable error) {
                            fallbacks.add(null);
                            assertEquals(FallbackCause.KEY_ERROR, cause, String.valueOf(error));
                        }
                    }).build();
            tests.redis().hset("resilience:rate:" + name + ":{broken}", "x", "1"); // someone else's write
            DistributedQuota quota = DistributedQuota.builder(RedisTests.uniqueName("isoq"), backend).limit(100)
                    .window(Duration.ofMinutes(1)).build();
            tests.redis().set("resilience:quota:" + quota.name() + ":{broken}", "not a hash");
            for (int i = 0; i < 20; i++) {
                Decision bad = limiter.decide("broken", 1);
                assertEquals(Decision.Source.LOCAL, bad.source(), "decided by the failure mode: " + bad);
                assertEquals(FallbackCause.KEY_ERROR, bad.fallbackCause());
                assertEquals(FallbackCause.KEY_ERROR, quota.decide("broken", 1).fallbackCause());
            }
            assertEquals(20, fallbacks.size(), "reported each time");
            assertEquals(CircuitBreaker.State.CLOSED, backend.circuitBreaker().state(),
                    "error replies about one key's data are not the backend's failures");
            Decision healthy = limiter.decide("healthy", 1);
            assertEquals(Decision.Source.REDIS, healthy.source(), "the other keys still go to Redis: " + healthy);
            assertEquals(Decision.Source.REDIS, quota.decide("healthy", 1).source());
        }
    }

    @Test
    void theLocalFallbackKeepsEnforcingPastTenThousandKeys() {
        try (RedisBackend backend = tests.backend()) {
            backend.circuitBreaker().forceOpen(); // Redis is away for every decision
            DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("many"), backend)
                    .rate(1.0 / 60).burst(1).ticker(new ManualTicker()).build();
            int keys = 10_001;
            for (int pass = 0; pass < 2; pass++) {
                int granted = 0;
                for (int k = 0; k < keys; k++) {
                    if (limiter.decide("tenant-" + k, 1).granted()) {
                        granted++;
                    }
                }
                assertEquals(pass == 0 ? keys : 0, granted, "pass " + pass + ": one permit a minute per key");
            }
        }
    }

    @Test
    void pastItsBoundTheFallbackDropsFullBucketsFirstThenTheLeastRecentlyUsed() {
        try (RedisBackend backend = tests.backend()) {
            backend.circuitBreaker().forceOpen();
            ManualTicker ticker = new ManualTicker();
            DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("bound"), backend)
                    .rate(1).burst(1).localKeys(100).ticker(ticker).build();
            for (int k = 0; k < 50; k++) {
                assertTrue(limiter.decide("idle-" + k, 1).granted());
            }
            ticker.advance(Duration.ofSeconds(5)); // the first 50 are full again: they carry no state
            for (int k = 0; k < 50; k++) {
                assertTrue(limiter.decide("active-" + k, 1).granted());
                ticker.advance(Duration.ofMillis(1));
            }
            assertTrue(limiter.decide("one-more", 1).granted());
            assertEquals(51, limiter.localLimiters(), "the 50 full buckets went, the active ones stayed");
            for (int k = 0; k < 50; k++) {
                assertFalse(limiter.decide("active-" + k, 1).granted(), "still enforced: active-" + k);
            }
            for (int k = 0; k < 200; k++) {
                limiter.decide("flood-" + k, 1);
                ticker.advance(Duration.ofMillis(1));
            }
            assertTrue(limiter.localLimiters() <= 100, "memory bounded: " + limiter.localLimiters());
            assertFalse(limiter.decide("flood-199", 1).granted(), "the most recent keys are kept");
        }
    }
}
