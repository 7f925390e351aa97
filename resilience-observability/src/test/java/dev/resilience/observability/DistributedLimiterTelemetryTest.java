package dev.resilience.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.redis.Decision;
import dev.resilience.redis.DistributedLimiter;
import dev.resilience.redis.DistributedQuota;
import dev.resilience.redis.DistributedRateLimiter;
import dev.resilience.redis.FailureMode;
import dev.resilience.redis.RedisBackend;
import dev.resilience.redis.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The distributed limiters' events as meters, against a real redis-server on loopback. */
class DistributedLimiterTelemetryTest {

    private static double decisions(SimpleMeterRegistry r, String name, String result, String source) {
        return decisions(r, "rate", name, result, source);
    }

    private static double decisions(SimpleMeterRegistry r, String kind, String name, String result, String source) {
        return r.get("resilience.distributed.decisions").tags("limiter", kind, "name", name, "result", result,
                "source", source).counter().count();
    }

    @Test
    void decisionsFallbacksAndRoundTripsBecomeMeters() throws InterruptedException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry telemetry = ResilienceTelemetry.builder().meterRegistry(registry).build();
        try (RedisServer server = RedisServer.startInstallingIfMissing();
                // 5 s, not the default 100 ms: a stall of this 2-core machine must not turn a counted
                // decision into a fallback (the fallback path has tests of its own)
                RedisBackend redis = RedisBackend.builder().uri(server.uri()).timeout(Duration.ofSeconds(5)).build()) {
            assertTrue(redis.awaitConnection(Duration.ofSeconds(10)));
            // this class runs in a JVM of its own, against a new server: load both scripts and the
            // client's classes first (unbound limiters), so that no counted call below pays for
            // them inside the backend's timeout
            for (DistributedLimiter warm : List.of(DistributedRateLimiter.builder("warm", redis).rate(1000).burst(1000).build(),
                    DistributedQuota.builder("warm", redis).limit(1000).window(Duration.ofHours(1)).build())) {
                Decision.Source source = warm.decide("warm", 1).source();
                for (int i = 0; i < 5 && source != Decision.Source.REDIS; i++) {
                    Thread.sleep(100);
                    source = warm.decide("warm", 1).source();
                }
                assertEquals(Decision.Source.REDIS, source, "the warm-up reached Redis");
            }
            DistributedRateLimiter limiter = DistributedRateLimiter.builder("partner", redis).rate(1).burst(2)
                    .failureMode(FailureMode.failClosed()).build();
            DistributedQuota quota = DistributedQuota.builder("tenants", redis).limit(1).window(Duration.ofHours(1)).build();
            DistributedLimiterTelemetry.bind(telemetry, quota);
            // a quota of the limiter's own name: its series are its own, not the limiter's
            DistributedQuota namesake = DistributedQuota.builder("partner", redis).limit(5).window(Duration.ofHours(1)).build();
            DistributedLimiterTelemetry.bind(telemetry, namesake);
            ResilienceTelemetry.Binding binding = DistributedLimiterTelemetry.bind(telemetry, limiter);
            assertEquals(0.0, decisions(registry, "partner", "granted", "redis"), "bound before any event");

            limiter.tryAcquire("tenant-1");
            limiter.tryAcquire("tenant-1");
            limiter.tryAcquire("tenant-1");
            quota.tryAcquire("tenant-1");
            namesake.tryAcquire("tenant-1");
            assertEquals(2.0, decisions(registry, "partner", "granted", "redis"));
            assertEquals(1.0, decisions(registry, "quota", "partner", "granted", "redis"));
            assertEquals(1.0, decisions(registry, "partner", "rejected", "redis"));
            assertEquals(1.0, decisions(registry, "quota", "tenants", "granted", "redis"));
            assertEquals(3, registry.get("resilience.distributed.roundtrip").tags("limiter", "rate", "name", "partner")
                    .timer().count());
            assertNull(registry.find("resilience.distributed.decisions").tag("key", "tenant-1").meter(),
                    "keys are never tags");

            server.stop();
            Decision d = limiter.decide("tenant-1", 1);
            assertEquals(Decision.Source.FAIL_CLOSED, d.source());
            assertEquals(1.0, decisions(registry, "partner", "rejected", "fail_closed"));
            double fallbacks = registry.find("resilience.distributed.fallbacks").tags("limiter", "rate", "name", "partner").counters()
                    .stream().mapToDouble(c -> c.count()).sum();
            assertEquals(1.0, fallbacks);

            binding.close();
            assertNull(registry.find("resilience.distributed.decisions").tags("limiter", "rate", "name", "partner").meter());
            assertEquals(1.0, decisions(registry, "quota", "partner", "granted", "redis"),
                    "closing the limiter's binding leaves its namesake quota's meters");
            assertNotNull(registry.find("resilience.distributed.decisions").tags("name", "tenants").meter());
            assertTrue(registry.find("resilience.distributed.roundtrip").tags("name", "tenants").timer().count() == 1);
        }
    }
}
