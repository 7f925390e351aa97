package dev.resilience.benchmarks;

import com.netflix.concurrency.limits.Limiter;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.Permit;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Acquire a slot and release it, with plenty of slots free: the cost of the guard itself.
 *
 * <p>Two kinds of guard, each against the peer that does the same work:
 * <ul>
 * <li><b>Bulkhead</b> (a fixed number of slots, no clock): ours against Resilience4j's
 *     {@code SemaphoreBulkhead} with no wait; also the refusal path, each with its only slot taken.
 * <li><b>Adaptive limit</b> (the limit follows round-trip times: two clock reads per call, one per
 *     end, and the algorithm's update): our {@code AdaptiveLimiter} against concurrency-limits'
 *     {@code SimpleLimiter}, both with Vegas and both with Gradient2 (each library's own
 *     implementation, initial limit 100, maximum 1,000). Both allocate per call: a permit that
 *     remembers its start (ours: 16 B/op measured), a listener (theirs).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class BulkheadBenchmark {

    private final Bulkhead ours = Bulkhead.builder("bench").maxConcurrent(100).build();
    private final Bulkhead oursFull = Bulkhead.builder("full").maxConcurrent(1).build();
    private final io.github.resilience4j.bulkhead.Bulkhead resilience4j = io.github.resilience4j.bulkhead.Bulkhead
            .of("bench", BulkheadConfig.custom().maxConcurrentCalls(100).maxWaitDuration(Duration.ZERO).build());
    private final io.github.resilience4j.bulkhead.Bulkhead resilience4jFull = io.github.resilience4j.bulkhead.Bulkhead
            .of("full", BulkheadConfig.custom().maxConcurrentCalls(1).maxWaitDuration(Duration.ZERO).build());

    private final AdaptiveLimiter oursVegas = AdaptiveLimiter.builder("vegas")
            .algorithm(LimitAlgorithm.vegas(100, 1, 1_000)).build();
    private final AdaptiveLimiter oursGradient2 = AdaptiveLimiter.builder("gradient2")
            .algorithm(LimitAlgorithm.gradient2(100, 1, 1_000)).build();
    private final SimpleLimiter<Void> theirVegas = SimpleLimiter.newBuilder()
            .limit(VegasLimit.newBuilder().initialLimit(100).maxConcurrency(1_000).build()).build();
    private final SimpleLimiter<Void> theirGradient2 = SimpleLimiter.newBuilder()
            .limit(Gradient2Limit.newBuilder().initialLimit(100).minLimit(1).maxConcurrency(1_000).build()).build();

    {
        oursFull.tryAcquire();
        resilience4jFull.tryAcquirePermission();
    }

    @Benchmark
    public boolean ours() {
        Permit p = ours.tryAcquire();
        p.release();
        return p.isPermitted();
    }

    @Benchmark
    public boolean resilience4j() {
        boolean ok = resilience4j.tryAcquirePermission();
        resilience4j.onComplete();
        return ok;
    }

    @Benchmark
    public boolean oursRejected() {
        return oursFull.tryAcquire().isPermitted();
    }

    @Benchmark
    public boolean resilience4jRejected() {
        return resilience4jFull.tryAcquirePermission();
    }

    @Benchmark
    @Threads(2)
    public boolean ours_2threads() {
        return ours();
    }

    @Benchmark
    @Threads(2)
    public boolean resilience4j_2threads() {
        return resilience4j();
    }

    private static boolean adaptive(AdaptiveLimiter limiter) {
        Permit p = limiter.tryAcquire();
        p.onSuccess();
        return p.isPermitted();
    }

    private static boolean adaptive(SimpleLimiter<Void> limiter) {
        Optional<Limiter.Listener> l = limiter.acquire(null);
        l.get().onSuccess();
        return l.isPresent();
    }

    @Benchmark
    public boolean oursAdaptiveVegas() {
        return adaptive(oursVegas);
    }

    @Benchmark
    public boolean concurrencyLimitsAdaptiveVegas() {
        return adaptive(theirVegas);
    }

    @Benchmark
    public boolean oursAdaptiveGradient2() {
        return adaptive(oursGradient2);
    }

    @Benchmark
    public boolean concurrencyLimitsAdaptiveGradient2() {
        return adaptive(theirGradient2);
    }

    @Benchmark
    @Threads(2)
    public boolean oursAdaptiveVegas_2threads() {
        return adaptive(oursVegas);
    }

    @Benchmark
    @Threads(2)
    public boolean concurrencyLimitsAdaptiveVegas_2threads() {
        return adaptive(theirVegas);
    }
}
