package dev.resilience.benchmarks;

import dev.resilience.redis.Decision;
import dev.resilience.redis.DistributedQuota;
import dev.resilience.redis.DistributedRateLimiter;
import dev.resilience.redis.FailureMode;
import dev.resilience.redis.RedisBackend;
import dev.resilience.redis.testing.RedisServer;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.github.bucket4j.redis.lettuce.cas.LettuceBasedProxyManager;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A granted permit from a limit kept in a real redis-server on loopback (started by the benchmark,
 * one per fork): our GCRA script (one {@code EVALSHA} round trip) and our fixed-window quota, beside
 * Bucket4j 8.19's Lettuce backend (its compare-and-swap proxy manager, the one Bucket4j offers for
 * Lettuce). Limits are set far above what one machine can ask for, so every call is granted: this
 * is the cost of the grant path, not of refusals. Each side has its own Lettuce connection.
 *
 * <p>Run with {@code -t 1} for latency and with more threads ({@code -t 4 -bm thrpt}) for throughput
 * over one connection each.
 *
 * <p>Also: Bucket4j with its batching optimization (requests for one key that arrive while one is in
 * flight are combined into one round trip: it can only help with several threads on one key), and
 * both libraries over {@value #KEYS} keys chosen at random per call (the state of many callers, as a
 * per-client limit keeps it) instead of one key.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RedisLimiterBenchmark extends AverageTimeBenchmark {

    private RedisServer server;
    private RedisBackend backend;
    private DistributedRateLimiter ours;
    private DistributedQuota quota;
    private RedisClient bucket4jClient;
    private StatefulRedisConnection<String, byte[]> bucket4jConnection;
    private BucketProxy bucket4j;
    private BucketProxy bucket4jBatching;
    /** How many keys the many-keys rows spread their calls over. */
    static final int KEYS = 10_000;
    private final String[] keys = new String[KEYS];
    private final BucketProxy[] bucket4jKeys = new BucketProxy[KEYS];
    @SuppressWarnings("unchecked")
    private final CompletableFuture<Decision>[] inFlight = (CompletableFuture<Decision>[]) new CompletableFuture<?>[16];

    @Setup
    public void setup() throws InterruptedException {
        server = RedisServer.startInstallingIfMissing();
        backend = RedisBackend.builder().uri(server.uri()).timeout(Duration.ofSeconds(1)).build();
        if (!backend.awaitConnection(Duration.ofSeconds(20))) {
            throw new IllegalStateException("no connection to " + server.uri());
        }
        ours = DistributedRateLimiter.builder("bench", backend).rate(1e6).burst(1_000_000)
                .failureMode(FailureMode.failClosed()).build();
        quota = DistributedQuota.builder("bench", backend).limit(1L << 50).window(Duration.ofHours(1))
                .failureMode(FailureMode.failClosed()).build();

        bucket4jClient = RedisClient.create(server.uri());
        bucket4jConnection = bucket4jClient.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
        LettuceBasedProxyManager<String> manager = Bucket4jLettuce.casBasedBuilder(bucket4jConnection)
                .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                .build();
        BucketConfiguration config = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(1_000_000).refillGreedy(1_000_000, Duration.ofSeconds(1)))
                .build();
        bucket4j = manager.builder().build("bucket4j:bench", () -> config);
        bucket4jBatching = manager.builder().withOptimization(Optimizations.batching())
                .build("bucket4j:bench-batching", () -> config);
        for (int i = 0; i < KEYS; i++) {
            keys[i] = "key-" + i;
            bucket4jKeys[i] = manager.builder().build("bucket4j:key-" + i, () -> config);
        }

        // Every call must be granted, by Redis, on both sides.
        if (!ours.decide("k", 1).granted() || !quota.decide("k", 1).granted() || !bucket4j.tryConsume(1)
                || !bucket4jBatching.tryConsume(1)) {
            throw new IllegalStateException("a warm-up call was not granted");
        }
    }

    @TearDown
    public void tearDown() {
        backend.close();
        bucket4jConnection.close();
        bucket4jClient.shutdown();
        server.close();
    }

    @Benchmark
    public boolean ours_rateLimiter_tryAcquire() {
        return ours.tryAcquire("k");
    }

    @Benchmark
    public boolean ours_quota_tryAcquire() {
        return quota.tryAcquire("k");
    }

    /**
     * 16 decisions in flight at once on the one connection (Lettuce pipelines them), per decision:
     * what a caller of {@code decideAsync} can get from one thread.
     */
    @Benchmark
    @OperationsPerInvocation(16)
    public int ours_rateLimiter_decideAsync_16inFlight() {
        for (int i = 0; i < inFlight.length; i++) {
            inFlight[i] = ours.decideAsync("k", 1);
        }
        int granted = 0;
        for (CompletableFuture<Decision> f : inFlight) {
            granted += f.join().granted() ? 1 : 0;
        }
        return granted;
    }

    @Benchmark
    public boolean bucket4j_lettuce_tryConsume() {
        return bucket4j.tryConsume(1);
    }

    @Benchmark
    public boolean bucket4j_lettuce_batching_tryConsume() {
        return bucket4jBatching.tryConsume(1);
    }

    /** One of {@link #KEYS} keys at random per call (after the warm-up every key exists in Redis): no one hot key. */
    @Benchmark
    public boolean ours_rateLimiter_manyKeys() {
        return ours.tryAcquire(keys[ThreadLocalRandom.current().nextInt(KEYS)]);
    }

    @Benchmark
    public boolean bucket4j_lettuce_manyKeys() {
        return bucket4jKeys[ThreadLocalRandom.current().nextInt(KEYS)].tryConsume(1);
    }
}
