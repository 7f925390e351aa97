package dev.resilience.benchmarks;

import com.netflix.concurrency.limits.limit.FixedLimit;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import dev.resilience.core.Bulkhead;
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

/** Acquire a slot and release it, with plenty of slots free: the cost of the guard itself. */
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
    private final SimpleLimiter<Void> concurrencyLimits =
            SimpleLimiter.newBuilder().limit(FixedLimit.of(100)).build();

    {
        oursFull.tryAcquire();
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
    public boolean concurrencyLimits() {
        Optional<com.netflix.concurrency.limits.Limiter.Listener> l = concurrencyLimits.acquire(null);
        l.get().onSuccess();
        return l.isPresent();
    }

    @Benchmark
    public boolean oursRejected() {
        return oursFull.tryAcquire().isPermitted();
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

    @Benchmark
    @Threads(2)
    public boolean concurrencyLimits_2threads() {
        return concurrencyLimits();
    }
}
