package dev.resilience.benchmarks;

import dev.resilience.core.RateLimiter;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A granted {@code tryAcquire()}: every limiter is configured so that it always has a permit
 * (10^9 per second, a burst of 10^9), so the figure is the cost of the decision, not of waiting.
 * {@code floor} is one clock read plus one CAS on an {@link AtomicLong}: what any correct
 * time-based limiter has to do at least.
 *
 * <p>The 2-thread rows carry a co-scheduling check ({@link Overlap}): on a 2-vCPU machine the two
 * threads do not always run at the same time, and a fork where they took turns measures no
 * contention at all. Each thread publishes its operation count (a store to its own cache line) and,
 * every 1,024 operations, looks whether the other thread's count moved since its last look:
 * {@code overlap.concurrent / overlap.windows} near 1 means the threads ran at once, near 0 that
 * they took turns.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class RateLimiterBenchmark {

    private static final int LOTS = 1_000_000_000;

    private final RateLimiter ours = RateLimiter.builder("bench").rate(1e9).burst(LOTS).build();
    private final io.github.resilience4j.ratelimiter.RateLimiter resilience4j =
            io.github.resilience4j.ratelimiter.RateLimiter.of("bench", RateLimiterConfig.custom()
                    .limitForPeriod(LOTS)
                    .limitRefreshPeriod(Duration.ofSeconds(1))
                    .timeoutDuration(Duration.ZERO)
                    .build());
    private final dev.failsafe.RateLimiter<Object> failsafeSmooth =
            dev.failsafe.RateLimiter.smoothBuilder(LOTS, Duration.ofSeconds(1)).build();
    private final dev.failsafe.RateLimiter<Object> failsafeBursty =
            dev.failsafe.RateLimiter.burstyBuilder(LOTS, Duration.ofSeconds(1)).build();
    private final Bucket bucket4j = Bucket.builder()
            .addLimit(Bandwidth.builder().capacity(LOTS).refillGreedy(LOTS, Duration.ofSeconds(1)).build())
            .build();
    @SuppressWarnings("UnstableApiUsage")
    private final com.google.common.util.concurrent.RateLimiter guava =
            com.google.common.util.concurrent.RateLimiter.create(1e9);
    private final AtomicLong floorWord = new AtomicLong();
    /** Each thread's operation count, 128 bytes apart and from the array's ends (slots 16 and 32). */
    private final AtomicLongArray progress = new AtomicLongArray(48);
    private final AtomicInteger threads = new AtomicInteger();

    /** See the class comment: counts the 1,024-operation windows in which the other thread progressed too. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Overlap {
        /** Windows of 1,024 operations of this thread. */
        public long windows;
        /** Those in which the other thread's count moved. */
        public long concurrent;
        private AtomicLongArray progress;
        private int slot;
        private int other;
        private long ops;
        private long lastSeen;

        @Setup(Level.Trial)
        public void join(RateLimiterBenchmark b) {
            int index = b.threads.getAndIncrement() & 1;
            progress = b.progress;
            slot = 16 + index * 16;
            other = 32 - index * 16;
        }

        @Setup(Level.Iteration)
        public void reset() {
            windows = 0;
            concurrent = 0;
        }

        void tick() {
            long n = ++ops;
            progress.lazySet(slot, n);
            if ((n & 1023) == 0) {
                long seen = progress.get(other);
                windows++;
                if (seen != lastSeen) {
                    concurrent++;
                }
                lastSeen = seen;
            }
        }
    }

    @Benchmark
    public boolean floor() {
        long now = System.nanoTime();
        long v = floorWord.get();
        return floorWord.compareAndSet(v, now);
    }

    @Benchmark
    public boolean ours() {
        return ours.tryAcquire();
    }

    @Benchmark
    public boolean resilience4j() {
        return resilience4j.acquirePermission();
    }

    @Benchmark
    public boolean failsafeSmooth() {
        return failsafeSmooth.tryAcquirePermit();
    }

    @Benchmark
    public boolean failsafeBursty() {
        return failsafeBursty.tryAcquirePermit();
    }

    @Benchmark
    public boolean bucket4j() {
        return bucket4j.tryConsume(1);
    }

    @Benchmark
    public boolean guava() {
        return guava.tryAcquire();
    }

    @Benchmark
    @Threads(2)
    public boolean floor_2threads(Overlap overlap) {
        overlap.tick();
        return floor();
    }

    @Benchmark
    @Threads(2)
    public boolean ours_2threads(Overlap overlap) {
        overlap.tick();
        return ours();
    }

    @Benchmark
    @Threads(2)
    public boolean resilience4j_2threads(Overlap overlap) {
        overlap.tick();
        return resilience4j();
    }

    @Benchmark
    @Threads(2)
    public boolean failsafeSmooth_2threads(Overlap overlap) {
        overlap.tick();
        return failsafeSmooth();
    }

    @Benchmark
    @Threads(2)
    public boolean failsafeBursty_2threads(Overlap overlap) {
        overlap.tick();
        return failsafeBursty();
    }

    @Benchmark
    @Threads(2)
    public boolean bucket4j_2threads(Overlap overlap) {
        overlap.tick();
        return bucket4j();
    }

    @Benchmark
    @Threads(2)
    public boolean guava_2threads(Overlap overlap) {
        overlap.tick();
        return guava();
    }

    /** The reject path: each library's limiter exhausted (one permit a day, burst 1, taken). */
    @State(Scope.Benchmark)
    public static class Empty {
        final RateLimiter ours = RateLimiter.builder("empty").interval(Duration.ofDays(1)).burst(1).build();
        final io.github.resilience4j.ratelimiter.RateLimiter resilience4j =
                io.github.resilience4j.ratelimiter.RateLimiter.of("empty", RateLimiterConfig.custom()
                        .limitForPeriod(1).limitRefreshPeriod(Duration.ofDays(1)).timeoutDuration(Duration.ZERO).build());
        final dev.failsafe.RateLimiter<Object> failsafeSmooth =
                dev.failsafe.RateLimiter.smoothBuilder(1, Duration.ofDays(1)).build();
        final dev.failsafe.RateLimiter<Object> failsafeBursty =
                dev.failsafe.RateLimiter.burstyBuilder(1, Duration.ofDays(1)).build();
        final Bucket bucket4j = Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(1).refillGreedy(1, Duration.ofDays(1)).build()).build();
        @SuppressWarnings("UnstableApiUsage")
        final com.google.common.util.concurrent.RateLimiter guava =
                com.google.common.util.concurrent.RateLimiter.create(1.0 / 86_400);

        {
            ours.tryAcquire();
            resilience4j.acquirePermission();
            failsafeSmooth.tryAcquirePermit();
            failsafeBursty.tryAcquirePermit();
            bucket4j.tryConsume(1);
            guava.tryAcquire();
        }
    }

    @Benchmark
    public boolean ours_rejected(Empty empty) {
        return empty.ours.tryAcquire();
    }

    @Benchmark
    public boolean resilience4j_rejected(Empty empty) {
        return empty.resilience4j.acquirePermission();
    }

    @Benchmark
    public boolean failsafeSmooth_rejected(Empty empty) {
        return empty.failsafeSmooth.tryAcquirePermit();
    }

    @Benchmark
    public boolean failsafeBursty_rejected(Empty empty) {
        return empty.failsafeBursty.tryAcquirePermit();
    }

    @Benchmark
    public boolean bucket4j_rejected(Empty empty) {
        return empty.bucket4j.tryConsume(1);
    }

    @Benchmark
    public boolean guava_rejected(Empty empty) {
        return empty.guava.tryAcquire();
    }
}
