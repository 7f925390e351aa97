package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The fixed-window quota against a real redis-server on loopback. */
class DistributedQuotaTest extends SharedRedisTest {

    private static DistributedQuota.Builder quota(long limit, Duration window) {
        return DistributedQuota.builder(RedisTests.uniqueName("quota"), backend).limit(limit).window(window);
    }

    private static String key(DistributedQuota q, String key) {
        return "resilience:quota:" + q.name() + ":{" + key + "}";
    }

    @Test
    void limitPerWindowAndRefusalsCountNothing() {
        DistributedQuota q = quota(3, Duration.ofMinutes(1)).build();
        assertTrue(q.tryAcquire("t", 2));
        Decision d = q.decide("t", 1);
        assertTrue(d.granted());
        assertEquals(0, d.remaining());
        assertTrue(d.resetNanos() > 0 && d.resetNanos() <= 60_000_000_000L, d.toString());
        Decision refused = q.decide("t", 1);
        assertFalse(refused.granted());
        assertEquals(RequestNotPermittedException.Reason.NO_PERMIT, refused.reason());
        assertEquals(refused.resetNanos(), refused.delayNanos(), "retry when the window ends");
        for (int i = 0; i < 5; i++) {
            assertFalse(q.tryAcquire("t"));
        }
        assertEquals("3", tests.redis().hget(key(q, "t"), "c"), "refusals did not count");
        Decision tooMany = q.decide("other", 4);
        assertFalse(tooMany.granted());
        assertEquals(RequestNotPermittedException.Reason.EXCEEDS_BURST, tooMany.reason());
        assertEquals(-1, tooMany.delayNanos());
    }

    @Test
    void keysAreIsolatedAndOverridable() {
        DistributedQuota q = quota(1, Duration.ofMinutes(1))
                .override("gold", 5)
                .limits(key -> key.equals("silver") ? 2L : null)
                .build();
        assertEquals(5, q.limit("gold"));
        assertEquals(2, q.limit("silver"));
        assertEquals(1, q.limit("bronze"));
        assertEquals(Duration.ofMinutes(1), q.window());
        int gold = 0;
        while (q.tryAcquire("gold")) {
            gold++;
        }
        assertEquals(5, gold);
        assertTrue(q.tryAcquire("silver"));
        assertTrue(q.tryAcquire("silver"));
        assertFalse(q.tryAcquire("silver"));
        assertTrue(q.tryAcquire("bronze"));
        assertFalse(q.tryAcquire("bronze"));
        assertTrue(q.tryAcquire("bronze-2"), "another key, another count");
    }

    @Test
    void aResolvedLimitAboveTheMostAWindowHoldsSaturatesAndOneBelowOneNamesTheKey() {
        DistributedQuota q = quota(1, Duration.ofMinutes(1))
                .limits(key -> key.equals("unlimited") ? Long.valueOf(Long.MAX_VALUE) : key.equals("zero") ? Long.valueOf(0L) : null)
                .build();
        assertEquals(1L << 53, q.limit("unlimited"), "Long.MAX_VALUE as \"unlimited\" counts as 2^53");
        for (int i = 0; i < 100; i++) {
            assertTrue(q.tryAcquire("unlimited"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.tryAcquire("zero"));
        assertTrue(e.getMessage().contains("\"zero\"") && e.getMessage().contains(" 0"), e.getMessage());
        assertTrue(q.tryAcquire("other"), "other keys are not affected");
    }

    @Test
    void theWindowRollsOverOnTheServerClockAndTheKeyExpires() {
        long windowMicros = 200_000;
        DistributedQuota q = quota(2, Duration.ofMillis(200)).build();
        // Start early in a window so that both grants land in it.
        long w0 = tests.serverMicros() / windowMicros;
        RedisTests.await(() -> tests.serverMicros() / windowMicros != w0, "a new window starts");
        long window = tests.serverMicros() / windowMicros;
        assertTrue(q.tryAcquire("t"));
        assertTrue(q.tryAcquire("t"));
        long pttl = tests.redis().pttl(key(q, "t"));
        assertTrue(pttl > 0 && pttl <= 200, "the key lives until the window's end: " + pttl);
        if (tests.serverMicros() / windowMicros == window) {
            assertFalse(q.tryAcquire("t"), "spent in this window");
        }
        RedisTests.await(() -> tests.serverMicros() / windowMicros > window, "the window ends");
        assertTrue(q.tryAcquire("t"), "a new window, a new count");
        RedisTests.await(() -> tests.redis().exists(key(q, "t")) == 0, "the key expires after its window");
    }

    @Test
    void badArgumentsFailFast() {
        assertThrows(IllegalArgumentException.class, () -> quota(0, Duration.ofMinutes(1)));
        assertThrows(IllegalArgumentException.class, () -> quota(1, Duration.ofNanos(10)));
        assertThrows(IllegalArgumentException.class, () -> quota(1, Duration.ZERO));
        assertThrows(NullPointerException.class, () -> quota(1, null));
        assertThrows(IllegalStateException.class,
                () -> DistributedQuota.builder("q", backend).limit(1).build());
        assertThrows(IllegalArgumentException.class, () -> quota(1, Duration.ofMinutes(1)).override("k", -5));
        DistributedQuota q = quota(1, Duration.ofMinutes(1)).build();
        assertThrows(IllegalArgumentException.class, () -> q.tryAcquire("k", -1));
        assertThrows(NullPointerException.class, () -> q.decide(null, 1));
    }
}
