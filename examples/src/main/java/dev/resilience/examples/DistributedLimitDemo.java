package dev.resilience.examples;

import dev.resilience.context.Context;
import dev.resilience.context.Ticker;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.redis.Decision;
import dev.resilience.redis.DistributedRateLimiter;
import dev.resilience.redis.FailureMode;
import dev.resilience.redis.Limit;
import dev.resilience.redis.RedisBackend;
import dev.resilience.redis.testing.RedisServer;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two instances of a service share a partner's limit of 40 calls per second (burst 10) for one
 * tenant, kept in a real Redis (the demo starts its own {@code redis-server} on loopback). Each
 * instance has three threads asking far more often than the limit allows. Midway Redis is killed:
 * each instance falls back to a local limiter with half the limit ({@code FailureMode.local(2)})
 * within the 100 ms timeout, the backend's breaker opens; Redis comes back (empty) and decisions
 * return to it. Each second it prints who decided and how many calls were granted.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.DistributedLimitDemo}
 * (needs {@code redis-server}: {@code .ci/install-redis} installs Debian's package).
 */
public final class DistributedLimitDemo {

    /** Lettuce logs each reconnect attempt during the outage; the demo prints its own account. */
    private static final java.util.logging.Logger LETTUCE_LOG = java.util.logging.Logger.getLogger("io.lettuce");

    static final double RATE = 40;
    static final int BURST = 10;

    private DistributedLimitDemo() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out, Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(4));
    }

    /**
     * What happened.
     *
     * @param grantedByRedis calls granted by the shared limit, both instances together
     * @param secondsWithRedis how long Redis was up while the instances asked
     * @param localDecisions decisions the local fallback made during the outage
     * @param redisDecisionsAfterRestart decisions Redis made after it came back
     * @param slowestMillis the slowest decision
     */
    record Outcome(boolean operatorLimitApplied, long grantedByRedis, double secondsWithRedis, long localDecisions,
            long redisDecisionsAfterRestart,
            long slowestMillis) {
    }

    /** One instance of the service: its own connection, breaker and limiter object, the same limit name. */
    private static final class Instance {
        final String name;
        final RedisBackend redis;
        final DistributedRateLimiter partner;
        final AtomicLong grantedByRedis = new AtomicLong();
        final AtomicLong grantedLocally = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong redisDecisions = new AtomicLong();
        final AtomicLong localDecisions = new AtomicLong();

        Instance(String name, String uri) throws InterruptedException {
            this.name = name;
            this.redis = RedisBackend.builder().uri(uri).timeout(Duration.ofMillis(100))
                    .circuitBreaker(CircuitBreaker.builder("redis-" + name).openDuration(Duration.ofSeconds(1)).build())
                    .build();
            redis.awaitConnection(Duration.ofSeconds(10));
            this.partner = DistributedRateLimiter.builder("partner-api", redis).rate(RATE).burst(BURST)
                    .failureMode(FailureMode.local(2)).build();
        }

        void record(Decision d) {
            boolean fromRedis = d.source() == Decision.Source.REDIS;
            (fromRedis ? redisDecisions : localDecisions).incrementAndGet();
            if (!d.granted()) {
                refused.incrementAndGet();
            } else {
                (fromRedis ? grantedByRedis : grantedLocally).incrementAndGet();
            }
        }
    }

    private static int grants(DistributedRateLimiter limiter, String key, int asks) {
        int n = 0;
        for (int i = 0; i < asks; i++) {
            if (limiter.tryAcquire(key)) {
                n++;
            }
        }
        return n;
    }

    static Outcome run(PrintStream out, Duration healthy, Duration outage, Duration after) throws Exception {
        LETTUCE_LOG.setLevel(java.util.logging.Level.SEVERE);
        try (RedisServer server = RedisServer.startInstallingIfMissing()) {
            Instance a = new Instance("a", server.uri());
            Instance b = new Instance("b", server.uri());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong slowest = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (Instance instance : List.of(a, b)) {
                for (int i = 0; i < 3; i++) {
                    Thread t = new Thread(() -> {
                        while (!stop.get()) {
                            long start = System.nanoTime();
                            Decision d = instance.partner.decide("tenant-42", 1);
                            slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                            instance.record(d);
                            pause(Duration.ofMillis(2));
                        }
                    }, "instance-" + instance.name + "-" + i);
                    t.start();
                    threads.add(t);
                }
            }
            long started = System.nanoTime();
            out.println("phase: Redis up for " + healthy.toSeconds() + " s (limit " + (int) RATE + "/s, burst " + BURST
                    + ", shared by instances a and b)");
            report(out, a, b, started, healthy);
            long up1 = System.nanoTime() - started;

            server.stop();
            out.println("phase: Redis killed for " + outage.toSeconds() + " s (each instance falls back to "
                    + (int) RATE / 2 + "/s locally)");
            long outageStart = System.nanoTime();
            long localBefore = a.localDecisions.get() + b.localDecisions.get();
            report(out, a, b, outageStart, outage);
            long localDuring = a.localDecisions.get() + b.localDecisions.get() - localBefore;

            server.restart();
            long restarted = System.nanoTime();
            long redisBefore = a.redisDecisions.get() + b.redisDecisions.get();
            out.println("phase: Redis restarted (empty) for " + after.toSeconds() + " s");
            report(out, a, b, restarted, after);
            long up2 = System.nanoTime() - restarted;
            long redisAfter = a.redisDecisions.get() + b.redisDecisions.get() - redisBefore;

            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            // An operator raises one tenant's limit in Redis; both instances apply it on their next decision.
            DistributedRateLimiter keptA = DistributedRateLimiter.builder("partner-api-kept", a.redis)
                    .rate(0.01).burst(2).limitsInRedis().build();
            DistributedRateLimiter keptB = DistributedRateLimiter.builder("partner-api-kept", b.redis)
                    .rate(0.01).burst(2).limitsInRedis().build();
            int before = grants(keptA, "tenant-7", 5);
            keptA.setLimit("tenant-9", Limit.of(0.01, 6));
            int raised = grants(keptA, "tenant-9", 3) + grants(keptB, "tenant-9", 5);
            boolean operatorLimitApplied = before == 2 && raised == 6;
            out.printf("[operator] tenant-7 (limit in code, burst 2): %d granted; tenant-9 after setLimit(burst 6) in"
                    + " Redis: %d granted across instances a and b%n", before, raised);
            a.redis.close();
            b.redis.close();
            long granted = a.grantedByRedis.get() + b.grantedByRedis.get();
            double seconds = (up1 + up2) / 1e9;
            out.printf("[summary] operator limit applied by both instances: %s; granted by the shared limit: %d in %.1f s with Redis up (at most 2 x %d + %.0f/s x"
                    + " %.1f s + 2 = %.0f: Redis came back empty, so full); decided locally during the outage: %d;"
                    + " by Redis after the restart: %d; slowest decision %d ms%n", operatorLimitApplied, granted, seconds,
                    BURST, RATE,
                    seconds, 2 * BURST + RATE * seconds + 2, localDuring, redisAfter,
                    TimeUnit.NANOSECONDS.toMillis(slowest.get()));
            return new Outcome(operatorLimitApplied, granted, seconds, localDuring, redisAfter, TimeUnit.NANOSECONDS.toMillis(slowest.get()));
        }
    }

    /** Prints, once a second for {@code length}, what each instance was granted and who decided. */
    private static void report(PrintStream out, Instance a, Instance b, long phaseStart, Duration length) {
        long end = phaseStart + length.toNanos();
        long[] last = snapshot(a, b);
        for (long tick = phaseStart + TimeUnit.SECONDS.toNanos(1); tick - end <= 0; tick += TimeUnit.SECONDS.toNanos(1)) {
            pauseUntil(tick);
            long[] now = snapshot(a, b);
            out.printf("  a granted %3d (redis %3d, local %3d)  b granted %3d (redis %3d, local %3d)  refused %5d%n",
                    now[0] + now[1] - last[0] - last[1], now[0] - last[0], now[1] - last[1],
                    now[2] + now[3] - last[2] - last[3], now[2] - last[2], now[3] - last[3],
                    now[4] - last[4]);
            last = now;
        }
        pauseUntil(end);
    }

    private static long[] snapshot(Instance a, Instance b) {
        return new long[] {a.grantedByRedis.get(), a.grantedLocally.get(), b.grantedByRedis.get(),
            b.grantedLocally.get(), a.refused.get() + b.refused.get()};
    }

    private static void pause(Duration d) {
        pauseUntil(System.nanoTime() + d.toNanos());
    }

    private static void pauseUntil(long nanoTime) {
        try {
            Context.background().sleepUntil(Ticker.system(), nanoTime);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
