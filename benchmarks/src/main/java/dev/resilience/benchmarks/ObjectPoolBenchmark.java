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
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import stormpot.BasePoolable;
import stormpot.Pool;
import stormpot.PoolTap;
import stormpot.Slot;
import stormpot.Timeout;

/**
 * Borrow and return of an idle object, as a connection pool's hot path. Each pool holds 10 objects
 * (more than the benchmark threads, so nobody waits); run with {@code -t 1} and {@code -t 2}.
 * Stormpot is measured through {@code Pool.claim} (its thread-safe tap) and through its thread-local
 * tap, its fastest way; Commons Pool through {@code borrowObject/returnObject}.
 */
public class ObjectPoolBenchmark extends AverageTimeBenchmark {

    private static final int SIZE = 10;

    @Param({"ours", "stormpot", "stormpot-tlr", "commons-pool2"})
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
    private PoolTap<StormConn> stormpotTap;
    private GenericObjectPool<Conn> commons;
    private final Timeout timeout = new Timeout(1, TimeUnit.SECONDS);

    @Setup(Level.Trial)
    public void create() throws Exception {
        switch (impl) {
            case "ours":
                ours = ObjectPool.builder(new Allocator<Conn>() {
                    @Override
                    public Conn allocate() {
                        return new Conn();
                    }

                    @Override
                    public void deallocate(Conn c) {
                    }
                }).maxSize(SIZE).minIdle(SIZE).maxLifetime(Duration.ofMinutes(10)).build();
                while (ours.idle() < SIZE) {
                    Thread.onSpinWait();
                }
                break;
            case "stormpot":
            case "stormpot-tlr":
                stormpot = Pool.from(new stormpot.Allocator<StormConn>() {
                    @Override
                    public StormConn allocate(Slot slot) {
                        return new StormConn(slot);
                    }

                    @Override
                    public void deallocate(StormConn c) {
                    }
                }).setSize(SIZE).build();
                stormpotTap = impl.equals("stormpot") ? stormpot : stormpot.getThreadLocalTap();
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

    @Benchmark
    public void borrowAndReturn(Blackhole bh) throws Exception {
        switch (impl) {
            case "ours": {
                try (Lease<Conn> lease = ours.borrow()) {
                    bh.consume(lease.get().uses++);
                }
                break;
            }
            case "stormpot":
            case "stormpot-tlr": {
                StormConn c = stormpotTap.claim(timeout);
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
