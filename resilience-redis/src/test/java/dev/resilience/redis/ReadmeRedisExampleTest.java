package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resilience.redis.testing.RedisServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's resilience-redis snippet, verbatim between the markers, against a real Redis. */
class ReadmeRedisExampleTest {

    private String redisUri;

    private String handle(String tenant) throws InterruptedException {
        // README begin
        try (RedisBackend redis = RedisBackend.builder().uri(redisUri).timeout(Duration.ofMillis(100)).build()) {
            DistributedRateLimiter partner = DistributedRateLimiter.builder("partner-api", redis)
                    .rate(100).burst(20)                           // for all instances together, per key
                    .override("tenant-gold", Limit.of(1000, 200))
                    .failureMode(FailureMode.local(4))             // Redis down: each of 4 instances takes 25/s
                    .build();
            DistributedQuota daily = DistributedQuota.builder("tenant-requests", redis)
                    .limit(10_000).window(Duration.ofDays(1))
                    .build();

            Decision quota = daily.decide(tenant, 1);
            if (!quota.granted()) {
                return tooManyRequests(quota.delay());              // 429 with Retry-After: the window's end
            }
            partner.acquire(tenant, 1);                             // waits under the context's deadline
            return callPartner();
        }
        // README end
    }

    private static String tooManyRequests(Duration retryAfter) {
        return "429 after " + retryAfter.toSeconds();
    }

    private static String callPartner() {
        return "200";
    }

    @Test
    void theSnippetRuns() throws Exception {
        try (RedisServer server = RedisServer.startInstallingIfMissing()) {
            redisUri = server.uri();
            // A cold backend may fall back on its first call (FailureMode.local: granted anyway).
            assertEquals("200", handle("tenant-1"));
            assertEquals("200", handle("tenant-gold"));
        }
    }
}
