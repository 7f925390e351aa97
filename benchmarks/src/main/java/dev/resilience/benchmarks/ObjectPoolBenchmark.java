package dev.resilience.benchmarks;

import dev.resilience.pool.Allocator;
import dev.resilience.pool.Lease;
import dev.resilience.pool.ObjectPool;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.commons.pool2.BasePooledObjectFactory;
import org.apache.commons.pool2.PooledObject;
import org.apache.commons.pool2.impl.DefaultPooledObject;
import org.apache.commons.pool2.impl.GenericObjectPool;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import stormpot.BasePoolable;
import stormpot.Expiration;
import stormpot.Pool;
import stormpot.PoolBuilder;
import stormpot.PoolTap;
import stormpot.Slot;
import stormpot.Timeout;

/**
 * Borrow and return of an idle object, as a connection pool's hot path. Each pool holds 10 objects
 * (more than the benchmark threads, so nobody waits); run with {@code -t 1} and {@code -t 2}.
 * Stormpot is measured through {@code Pool.claim} (its thread-safe tap) and through its thread-local
 * tap, its fastest way, one tap per benchmark thread (its Javadoc: a thread-local tap must not be
 * shared between threads); Commons Pool through {@code borrowObject/returnObject}.
 *
 * <p>Two configurations, the suffix of {@link #impl}:
 * <ul>
 * <li>{@code never}: no object expires. Ours without a lifetime, Stormpot with
 *     {@code Expiration.never()}, Commons Pool as configured by default (no eviction, no test on
 *     borrow): the same work for each, the pool's own cost.
 * <li>{@code lifetime}: objects live about 10 minutes, each pool checking that its own way: ours
 *     with {@code maxLifetime(10 min)}, checked by its background sweep (a claim reads no clock);
 *     Stormpot with its default expiration (8-10 minutes), checked on every claim (a clock read).
 * </ul>
 */
public class ObjectPoolBenchmark extends AverageTimeBenchmark {

    private static final int SIZE = 10;

    @Param({"ours-never", "stormpot-never", "stormpot-tlr-never", "commons-pool2-never",
            "ours-lifetime", "stormpot-lifetime", "stormpot-tlr-lifetime"})
    public String impl;

    /** A stand-in connection. */
    public static final class Conn {
        long uses;
    }

    /** Stormpot's objects must be its Poolables. */
    public static final class StormConn extends BasePoolable {
        long uses;

        StormConn(Slot slot) {
            super(slot);
        }
    }

    private ObjectPool<Conn> ours;
    private Pool<StormConn> stormpot;
    private boolean threadLocalTap;
    private GenericObjectPool<Conn> commons;
    private final Timeout timeout = new Timeout(1, TimeUnit.SECONDS);

    @Setup(Level.Trial)
    public void create() throws Exception {
        boolean lifetime = impl.endsWith("-lifetime");
        switch (impl.substring(0, impl.lastIndexOf('-'))) {
            case "ours":
                ObjectPool.Builder<Conn> b = ObjectPool.builder(new Allocator<Conn>() {
                    @Override
                    public Conn allocate() {
                        return new Conn();
                    }

                    @Override
                    public void deallocate(Conn c) {
                    }
                }).maxSize(SIZE).minIdle(SIZE);
                ours = (lifetime ? b.maxLifetime(Duration.ofMinutes(10)) : b).build();
                while (ours.idle() < SIZE) {
                    Thread.onSpinWait();
                }
                break;
            case "stormpot":
            case "stormpot-tlr":
                PoolBuilder<StormConn> sb = Pool.from(new stormpot.Allocator<StormConn>() {
                    @Override
                    public StormConn allocate(Slot slot) {
                        return new StormConn(slot);
                    }

                    @Override
                    public void deallocate(StormConn c) {
                    }
                }).setSize(SIZE);
                stormpot = (lifetime ? sb : sb.setExpiration(Expiration.never())).build(); // default: 8-10 min
                threadLocalTap = impl.startsWith("stormpot-tlr");
                stormpot.claim(timeout).release(); // wait until allocated
                break;
            default:
                GenericObjectPoolConfig<Conn> config = new GenericObjectPoolConfig<>();
                config.setMaxTotal(SIZE);
                config.setMaxIdle(SIZE);
                config.setMinIdle(SIZE);
                config.setJmxEnabled(false);
                commons = new GenericObjectPool<>(new BasePooledObjectFactory<Conn>() {
                    @Override
                    public Conn create() {
                        return new Conn();
                    }

                    @Override
                    public PooledObject<Conn> wrap(Conn c) {
                        return new DefaultPooledObject<>(c);
                    }
                }, config);
                commons.preparePool();
        }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        if (ours != null) {
            ours.close(Duration.ofSeconds(5));
        }
        if (stormpot != null) {
            stormpot.shutdown().await(timeout);
        }
        if (commons != null) {
            commons.close();
        }
    }

    /** Each benchmark thread's own Stormpot tap: the pool itself, or a thread-local tap of its own. */
    @State(Scope.Thread)
    public static class Tap {
        PoolTap<StormConn> tap;

        @Setup(Level.Trial)
        public void create(ObjectPoolBenchmark b) {
            if (b.stormpot != null) {
                tap = b.threadLocalTap ? b.stormpot.getThreadLocalTap() : b.stormpot;
            }
        }
    }

    @Benchmark
    public void borrowAndReturn(Tap tap, Blackhole bh) throws Exception {
        switch (impl) {
            case "ours-never":
            case "ours-lifetime": {
                try (Lease<Conn> lease = ours.borrow()) {
                    bh.consume(lease.get().uses++);
                }
                break;
            }
            case "stormpot-never":
            case "stormpot-lifetime":
            case "stormpot-tlr-never":
            case "stormpot-tlr-lifetime": {
                StormConn c = tap.tap.claim(timeout);
                bh.consume(c.uses++);
                c.release();
                break;
            }
            default: {
                Conn c = commons.borrowObject();
                bh.consume(c.uses++);
                commons.returnObject(c);
            }
        }
    }
}
