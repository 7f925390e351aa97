package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.redis.testing.RedisCluster;
import dev.resilience.redis.testing.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The limiters on a real Redis Cluster (3 masters, 3 replicas, on loopback ports, started by the
 * test): limits shared across two backends for keys on every master, one round trip per decision,
 * and a master killed mid-run whose replica takes over while decisions go on within their timeout.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisClusterTest {

    static RedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisCluster.start(3, 1);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static RedisBackend backend() throws InterruptedException {
        RedisBackend b = RedisBackend.builder().cluster(cluster.uris()).build();
        assertTrue(b.awaitConnection(Duration.ofSeconds(20)), "connected to the cluster");
        return b;
    }

    private static long stat(RedisServer node, String command) {
        for (String line : cluster.cli(node, "INFO", "commandstats").split("\n")) {
            if (line.startsWith("cmdstat_" + command + ":calls=")) {
                return Long.parseLong(line.substring(("cmdstat_" + command + ":calls=").length()).split(",")[0]);
            }
        }
        return 0;
    }

    @Test
    @Order(1)
    void keysOnEveryMasterShareTheirLimitsAcrossTwoBackendsInOneRoundTripEach() throws Exception {
        try (RedisBackend a = backend(); RedisBackend b = backend()) {
            String name = RedisTests.uniqueName("cluster");
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            DistributedRateLimiter onA = DistributedRateLimiter.builder(name, a).rate(0.001).burst(2)
                    .listener(new DistributedLimiterListener() {
                        @Override
                        public void onFallback(DistributedLimiter l, FallbackCause cause, Throwable error) {
                            errors.add(error);
                        }
                    }).build();
            DistributedRateLimiter onB = DistributedRateLimiter.builder(name, b).rate(0.001).burst(2).build();
            Map<Integer, Integer> keysPerMaster = new HashMap<>();
            for (int k = 0; k < 60; k++) {
                String key = "tenant-" + k;
                Decision first = onA.decide(key, 1);
                assertTrue(first.granted(), first.toString());
                assertEquals(Decision.Source.REDIS, first.source(), first + " " + errors);
                assertTrue(onB.decide(key, 1).granted(), "the other instance takes the second permit");
                assertFalse(onA.tryAcquire(key), "both permits of " + key + " are used, whoever asks");
                assertFalse(onB.tryAcquire(key));
                keysPerMaster.merge(cluster.masterOf("{" + key + "}").port(), 1, Integer::sum);
            }
            assertEquals(3, keysPerMaster.size(), "keys on every master: " + keysPerMaster);

            DistributedRateLimiter kept = DistributedRateLimiter.builder(RedisTests.uniqueName("kept"), a)
                    .rate(0.001).burst(1).limitsInRedis().build();
            List<String> keptKeys = new ArrayList<>(List.of("}odd{", "{x}", "a}b"));
            for (int k = 0; k < 9; k++) {
                keptKeys.add("tenant-" + k);
            }
            for (String key : keptKeys) { // a key's state and its limit hash share a slot, braces or not
                kept.setLimit(key, Limit.of(0.001, 3));
                for (int i = 0; i < 3; i++) {
                    Decision d = kept.decide(key, 1);
                    assertTrue(d.granted() && d.source() == Decision.Source.REDIS, key + ": " + d + " " + errors);
                }
                assertFalse(kept.tryAcquire(key));
            }

            List<RedisServer> masters = cluster.masters();
            for (RedisServer m : masters) {
                cluster.cli(m, "CONFIG", "RESETSTAT");
            }
            int decisions = 90;
            for (int k = 0; k < decisions; k++) {
                assertEquals(Decision.Source.REDIS, onA.decide("fresh-" + k, 1).source());
            }
            long evalsha = 0;
            long eval = 0;
            for (RedisServer m : masters) {
                evalsha += stat(m, "evalsha");
                eval += stat(m, "eval");
            }
            assertEquals(decisions, evalsha + eval, "one script call per decision (EVALSHA, or EVAL once per node)");
            assertTrue(eval <= masters.size(), "EVAL only where a node did not know the script: " + eval);
        }
    }

    @Test
    @Order(2)
    void aMasterKilledMidRunIsReplacedWhileDecisionsGoOnWithinTheirTimeout() throws Exception {
        try (RedisBackend backend = backend()) {
            java.util.Set<String> causes = java.util.concurrent.ConcurrentHashMap.newKeySet();
            DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("failover"), backend)
                    .rate(100_000).burst(100_000).listener(new DistributedLimiterListener() {
                        @Override
                        public void onFallback(DistributedLimiter l, FallbackCause cause, Throwable error) {
                            causes.add(cause + " " + (error == null ? "" : String.valueOf(error.getMessage()).split("\n")[0]));
                        }
                    }).build();
            String victim = "victim";
            String bystander = null;
            RedisServer doomed = cluster.masterOf("{" + victim + "}");
            for (int k = 0; bystander == null; k++) {
                if (cluster.masterOf("{other-" + k + "}").port() != doomed.port()) {
                    bystander = "other-" + k;
                }
            }
            assertEquals(Decision.Source.REDIS, limiter.decide(victim, 1).source());
            assertEquals(Decision.Source.REDIS, limiter.decide(bystander, 1).source());

            doomed.stop(); // the master of the victim's slot dies
            long killed = System.nanoTime();
            List<Decision.Source> seen = new ArrayList<>();
            List<Decision.Source> others = new ArrayList<>();
            long slowest = 0;
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            boolean recovered = false;
            while (System.nanoTime() - end < 0 && !recovered) {
                for (String key : new String[] {victim, bystander}) {
                    long start = System.nanoTime();
                    Decision d = limiter.decide(key, 1);
                    slowest = Math.max(slowest, System.nanoTime() - start);
                    assertTrue(d.granted(), "the local fallback grants within its share: " + d);
                    if (!key.equals(victim)) {
                        others.add(d.source());
                    } else {
                        seen.add(d.source());
                        recovered = d.source() == Decision.Source.REDIS && seen.contains(Decision.Source.LOCAL);
                    }
                }
                Thread.sleep(20); // a steady rate of decisions through the window, not a wait for a condition
            }
            System.out.printf("[failover] Redis decided again %d ms after the kill; %d decisions of the victim's key,"
                    + " %d by the fallback; a healthy master's key: %d of %d by Redis; slowest decision %.1f ms%n",
                    (System.nanoTime() - killed) / 1_000_000, seen.size(),
                    seen.stream().filter(x -> x == Decision.Source.LOCAL).count(),
                    others.stream().filter(x -> x == Decision.Source.REDIS).count(), others.size(), slowest / 1e6);
            assertTrue(seen.contains(Decision.Source.LOCAL), "the failover window fell back: " + seen.size() + " decisions");
            long othersByRedis = others.stream().filter(x -> x == Decision.Source.REDIS).count();
            assertTrue(othersByRedis >= others.size() * 9 / 10, "keys on the healthy masters stay with Redis (each"
                    + " master has its own breaker): " + othersByRedis + " of " + others.size() + "; causes " + causes);
            assertTrue(recovered, "decided by Redis again once the replica took over");
            assertTrue(slowest < Duration.ofMillis(500).toNanos(),
                    "no decision waited much past the 100 ms timeout: slowest " + slowest / 1_000_000 + " ms");
            assertTrue(cluster.awaitHealthy(Duration.ofSeconds(30)), "the cluster serves every slot again");
            assertTrue(cluster.masterOf("{" + victim + "}").port() != doomed.port(), "a promoted replica serves it");
        }
    }
}
