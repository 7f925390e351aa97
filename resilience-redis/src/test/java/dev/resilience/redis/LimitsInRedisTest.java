package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Limits an operator keeps in Redis: every instance applies them on its next decision. */
@Timeout(60)
class LimitsInRedisTest extends SharedRedisTest {

    private static int granted(DistributedLimiter limiter, String key, int asks) {
        int n = 0;
        for (int i = 0; i < asks; i++) {
            if (limiter.tryAcquire(key)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void anOperatorsRateLimitReachesEveryInstanceAndClearingRestoresTheCodesLimit() throws Exception {
        String name = RedisTests.uniqueName("kept");
        try (RedisBackend other = tests.backend()) {
            DistributedRateLimiter a = DistributedRateLimiter.builder(name, backend).rate(0.001).burst(2)
                    .limitsInRedis().build();
            DistributedRateLimiter b = DistributedRateLimiter.builder(name, other).rate(0.001).burst(2)
                    .limitsInRedis().build();
            assertEquals(2, granted(a, "t1", 5), "the limit in code");

            a.setLimit("t2", Limit.of(0.001, 5));          // an operator raises one tenant
            assertEquals(Map.of("interval", "1.0E9", "burst", "5"), // microseconds per permit, and the burst
                    tests.redis().hgetall("resilience:rate:" + name + ":{t2}:limit"), "a documented hash");
            assertEquals(3, granted(a, "t2", 3));
            assertEquals(2, granted(b, "t2", 5), "the other instance applies it too: 5 in all");
            assertEquals(0, granted(a, "t1", 5), "other keys keep the limit in code");

            a.clearLimit("t3");
            b.setLimit("t3", Limit.of(0.001, 1));
            assertEquals(1, granted(a, "t3", 3));
            b.clearLimit("t3");
            assertFalse(tests.redis().exists("resilience:rate:" + name + ":{t3}:limit") > 0);
            assertEquals(1, granted(a, "t3", 3), "back to burst 2: one more");
        }
    }

    @Test
    void aQuotaKeptInRedisAndTheFeatureOffByDefault() {
        DistributedQuota quota = DistributedQuota.builder(RedisTests.uniqueName("keptq"), backend).limit(3)
                .window(Duration.ofHours(1)).limitsInRedis().build();
        quota.setLimit("t", 10);
        assertEquals(10, granted(quota, "t", 12));
        assertThrows(IllegalArgumentException.class, () -> quota.setLimit("t", 0));

        DistributedQuota plain = DistributedQuota.builder(RedisTests.uniqueName("plain"), backend).limit(3)
                .window(Duration.ofHours(1)).build();
        assertThrows(IllegalStateException.class, () -> plain.setLimit("t", 10), "off by default");
        tests.redis().hset("resilience:quota:" + plain.name() + ":{t}:limit", "limit", "10");
        assertEquals(3, granted(plain, "t", 5), "a limiter without limitsInRedis() reads no such hash");
    }

    @Test
    void aStoredLimitThatIsNotAPositiveNumberIsThatKeysFallbackNeverAnException() {
        DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("bad"), backend)
                .rate(1).burst(2).limitsInRedis().build();
        for (String[] bad : new String[][] {{"interval", "0"}, {"burst", "-1"}, {"burst", "abc"}, {"interval", "inf"}}) {
            tests.redis().del("resilience:rate:" + limiter.name() + ":{t}:limit");
            tests.redis().hset("resilience:rate:" + limiter.name() + ":{t}:limit", bad[0], bad[1]);
            Decision d = limiter.decide("t", 1);
            assertEquals(Decision.Source.LOCAL, d.source(), bad[0] + "=" + bad[1] + ": " + d);
            assertEquals(FallbackCause.KEY_ERROR, d.fallbackCause());
        }
        assertEquals(dev.resilience.core.CircuitBreaker.State.CLOSED, backend.circuitBreaker().state());
        assertEquals(Decision.Source.REDIS, limiter.decide("healthy", 1).source());
    }

    @Test
    void aStoredLimitSpanningCenturiesIsThatKeysFallbackAndNeverTripsTheSharedBreaker() {
        // Each field alone is accepted; together they span some 1e17 s. Reserving under it made Redis
        // refuse the key's expiry time (an ERR, not a problem of the key), and after more than five
        // such errors the breaker the backend shares opened: every key fell back.
        DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("span"), backend)
                .rate(1).burst(2).limitsInRedis().build();
        tests.redis().hset("resilience:rate:" + limiter.name() + ":{t}:limit", "interval", "999999999999999");
        tests.redis().hset("resilience:rate:" + limiter.name() + ":{t}:limit", "burst", "99999999");
        for (int i = 0; i < 8; i++) {
            Decision d = limiter.decide("t", 10_000_000); // within the stored burst; its expiry was some 3e8 years
            assertEquals(Decision.Source.LOCAL, d.source(), d.toString());
            assertEquals(FallbackCause.KEY_ERROR, d.fallbackCause(), d.toString());
        }
        assertEquals(dev.resilience.core.CircuitBreaker.State.CLOSED, backend.circuitBreaker().state());
        assertEquals(Decision.Source.REDIS, limiter.decide("healthy", 1).source());
    }

    @Test
    void aLimitInCodeAtTheEdgeOfWhatLimitAcceptsIsDecidedInRedisWithOrWithoutAStoredOne() {
        // 7 permits at 7e-9/s: burst x interval is 1e15 us give or take a rounding of the interval's
        // text; the span check is for stored limits only and allows for that rounding
        DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("edge"), backend)
                .rate(7e-9).burst(7).limitsInRedis().build();
        assertEquals(Decision.Source.REDIS, limiter.decide("t", 1).source(), "no stored limit");
        limiter.setLimit("u", Limit.of(7e-9, 7));
        assertEquals(Decision.Source.REDIS, limiter.decide("u", 1).source(), "the same limit stored");
    }
}
