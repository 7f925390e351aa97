package dev.resilience.benchmarks;

import dev.resilience.redis.DistributedRateLimiter;
import dev.resilience.redis.FailureMode;
import dev.resilience.redis.RedisBackend;
import dev.resilience.redis.testing.RedisCluster;
import dev.resilience.redis.testing.RedisServer;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.github.bucket4j.redis.lettuce.cas.LettuceBasedProxyManager;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decisions per second from 4 threads on one backend, keys spread over 1,024 tenants (so over
 * every slot range of the cluster): a local Redis Cluster of 3 masters (no replicas, started by
 * the benchmark on loopback ports) beside one redis-server, in the same run. Every decision is
 * granted (limits far above the load) and is one {@code EVALSHA} to the master of its key's slot.
 * Beside ours, Bucket4j 8.19's Lettuce compare-and-swap proxy manager on the same cluster and the
 * same single node (its own connections; one bucket per key, made in setup), granted alike.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
@Threads(4)
@State(Scope.Benchmark)
public class RedisClusterLimiterBenchmark {

    private RedisCluster cluster;
    private RedisServer single;
    private RedisBackend clusterBackend;
    private RedisBackend singleBackend;
    private DistributedRateLimiter onCluster;
    private DistributedRateLimiter onSingle;
    private final String[] keys = new String[1024];
    private RedisClusterClient bucket4jClusterClient;
    private StatefulRedisClusterConnection<String, byte[]> bucket4jClusterConnection;
    private RedisClient bucket4jSingleClient;
    private StatefulRedisConnection<String, byte[]> bucket4jSingleConnection;
    private final BucketProxy[] bucket4jCluster = new BucketProxy[1024];
    private final BucketProxy[] bucket4jSingle = new BucketProxy[1024];

    /** Each thread walks the keys from its own start. */
    @State(Scope.Thread)
    public static class Cursor {
        int next = (int) (Thread.currentThread().getId() * 257);
    }

    @Setup
    public void setup() throws InterruptedException {
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "tenant-" + i;
        }
        cluster = RedisCluster.start(3, 0);
        single = RedisServer.startInstallingIfMissing();
        clusterBackend = RedisBackend.builder().cluster(cluster.uris()).timeout(Duration.ofSeconds(1)).build();
        singleBackend = RedisBackend.builder().uri(single.uri()).timeout(Duration.ofSeconds(1)).build();
        if (!clusterBackend.awaitConnection(Duration.ofSeconds(20)) || !singleBackend.awaitConnection(Duration.ofSeconds(20))) {
            throw new IllegalStateException("not connected");
        }
        onCluster = DistributedRateLimiter.builder("bench", clusterBackend).rate(1e6).burst(1_000_000)
                .failureMode(FailureMode.failClosed()).build();
        onSingle = DistributedRateLimiter.builder("bench", singleBackend).rate(1e6).burst(1_000_000)
                .failureMode(FailureMode.failClosed()).build();
        bucket4jClusterClient = RedisClusterClient.create(cluster.uris().stream().map(RedisURI::create).toList());
        bucket4jClusterConnection = bucket4jClusterClient.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
        bucket4jSingleClient = RedisClient.create(single.uri());
        bucket4jSingleConnection = bucket4jSingleClient.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
        BucketConfiguration config = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(1_000_000).refillGreedy(1_000_000, Duration.ofSeconds(1)))
                .build();
        ExpirationAfterWriteStrategy expiry = ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(
                Duration.ofSeconds(10));
        LettuceBasedProxyManager<String> clusterManager = Bucket4jLettuce.casBasedBuilder(bucket4jClusterConnection)
                .expirationAfterWrite(expiry).build();
        LettuceBasedProxyManager<String> singleManager = Bucket4jLettuce.casBasedBuilder(bucket4jSingleConnection)
                .expirationAfterWrite(expiry).build();
        for (int i = 0; i < keys.length; i++) {
            bucket4jCluster[i] = clusterManager.builder().build("bucket4j:" + keys[i], () -> config);
            bucket4jSingle[i] = singleManager.builder().build("bucket4j:" + keys[i], () -> config);
        }
        for (int i = 0; i < keys.length; i++) { // loads the scripts on every master; every call must be granted
            if (!onCluster.decide(keys[i], 1).granted() || !onSingle.decide(keys[i], 1).granted()
                    || !bucket4jCluster[i].tryConsume(1) || !bucket4jSingle[i].tryConsume(1)) {
                throw new IllegalStateException("a warm-up call was not granted");
            }
        }
    }

    @TearDown
    public void tearDown() {
        bucket4jClusterConnection.close();
        bucket4jClusterClient.shutdown();
        bucket4jSingleConnection.close();
        bucket4jSingleClient.shutdown();
        clusterBackend.close();
        singleBackend.close();
        cluster.close();
        single.close();
    }

    @Benchmark
    public boolean cluster_3masters_tryAcquire(Cursor c) {
        return onCluster.tryAcquire(keys[c.next++ & 1023]);
    }

    @Benchmark
    public boolean singleNode_tryAcquire(Cursor c) {
        return onSingle.tryAcquire(keys[c.next++ & 1023]);
    }

    @Benchmark
    public boolean bucket4j_cluster_3masters_tryConsume(Cursor c) {
        return bucket4jCluster[c.next++ & 1023].tryConsume(1);
    }

    @Benchmark
    public boolean bucket4j_singleNode_tryConsume(Cursor c) {
        return bucket4jSingle[c.next++ & 1023].tryConsume(1);
    }
}
