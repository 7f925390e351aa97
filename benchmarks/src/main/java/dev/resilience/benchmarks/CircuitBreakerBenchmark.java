package dev.resilience.benchmarks;

import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.Permit;
import dev.resilience.core.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
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
 * A closed breaker guarding a successful call: acquire a permit, record a success. The peers are
 * called without timing the call (Resilience4j gets a zero duration, Failsafe records directly), so
 * only the breaker is measured. Count-based: a 50% failure-rate threshold over the last 100 calls.
 * Time-based: over the last 10 one-second buckets.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class CircuitBreakerBenchmark {

    private final CircuitBreaker oursCount = CircuitBreaker.builder("count")
            .failureRateThreshold(50, 100).countWindow(100).build();
    private final CircuitBreaker oursTime = CircuitBreaker.builder("time")
            .failureRateThreshold(50, 100).timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(1)).build();
    private final CircuitBreaker oursGobreaker = CircuitBreaker.builder("gobreaker").build();
    private final CircuitBreaker oursForcedOpen = CircuitBreaker.builder("forced").build();
    private final CircuitBreaker oursOpen = CircuitBreaker.builder("open").openDuration(Duration.ofDays(1)).build();
    /** The client-side throttle with its defaults (10 s in 40 buckets, K 1.5): a healthy dependency, nothing dropped. */
    private final AdaptiveThrottle oursThrottle = AdaptiveThrottle.builder("throttle").build();
    /** A throttle whose dependency refused everything: it drops almost every call (a random draw each). */
    private final AdaptiveThrottle oursThrottleDropping = AdaptiveThrottle.builder("dropping")
            .forcedPassInterval(Duration.ofDays(1)).recoveryScaling(false).window(Duration.ofDays(1), 40).build();

    private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4jCount =
            io.github.resilience4j.circuitbreaker.CircuitBreaker.of("count", CircuitBreakerConfig.custom()
                    .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                    .slidingWindowSize(100).minimumNumberOfCalls(100).failureRateThreshold(50).build());
    private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4jTime =
            io.github.resilience4j.circuitbreaker.CircuitBreaker.of("time", CircuitBreakerConfig.custom()
                    .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                    .slidingWindowSize(10).minimumNumberOfCalls(100).failureRateThreshold(50).build());
    private final dev.failsafe.CircuitBreaker<Object> failsafeCount =
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build();

    {
        oursForcedOpen.forceOpen();
        for (int i = 0; i < 6; i++) {
            oursOpen.tryAcquire().onFailure(new java.io.IOException("trip"));
        }
        for (int i = 0; i < 1_000; i++) {
            Permit p = oursThrottleDropping.tryAcquire();
            if (p.isPermitted()) {
                p.onFailure(new java.io.IOException("refused"));
            }
        }
    }

    @Benchmark
    public boolean oursCount() {
        Permit p = oursCount.tryAcquire();
        p.onSuccess();
        return p.isPermitted();
    }

    @Benchmark
    public boolean resilience4jCount() {
        boolean ok = r4jCount.tryAcquirePermission();
        r4jCount.onSuccess(0, TimeUnit.NANOSECONDS);
        return ok;
    }

    @Benchmark
    public boolean failsafeCount() {
        boolean ok = failsafeCount.tryAcquirePermit();
        failsafeCount.recordSuccess();
        return ok;
    }

    @Benchmark
    public boolean oursGobreakerDefaults() {
        Permit p = oursGobreaker.tryAcquire();
        p.onSuccess();
        return p.isPermitted();
    }

    @Benchmark
    public boolean oursTime() {
        Permit p = oursTime.tryAcquire();
        p.onSuccess();
        return p.isPermitted();
    }

    @Benchmark
    public boolean resilience4jTime() {
        boolean ok = r4jTime.tryAcquirePermission();
        r4jTime.onSuccess(0, TimeUnit.NANOSECONDS);
        return ok;
    }

    /**
     * The throttle's permit and outcome, beside {@link #oursTime()}: both read the clock once (the
     * throttle when admitting, the time-window breaker when recording).
     */
    @Benchmark
    public boolean oursThrottle() {
        Permit p = oursThrottle.tryAcquire();
        p.onSuccess();
        return p.isPermitted();
    }

    /** A throttle dropping about 99 % of calls: one clock read, one random draw, a counter. */
    @Benchmark
    public boolean oursThrottleDropping() {
        Permit p = oursThrottleDropping.tryAcquire();
        if (p.isPermitted()) {
            p.onFailure(REFUSED);
        }
        return p.isPermitted();
    }

    private static final java.io.IOException REFUSED = new java.io.IOException("refused");

    /** Refused by a tripped breaker: one clock read decides whether the open timeout has passed. */
    @Benchmark
    public boolean oursRejectedOpen() {
        return oursOpen.tryAcquire().isPermitted();
    }

    /** Refused by a forced-open breaker: no clock. */
    @Benchmark
    public boolean oursRejectedForcedOpen() {
        return oursForcedOpen.tryAcquire().isPermitted();
    }

    @Benchmark
    @Threads(2)
    public boolean oursCount_2threads() {
        return oursCount();
    }

    @Benchmark
    @Threads(2)
    public boolean resilience4jCount_2threads() {
        return resilience4jCount();
    }

    @Benchmark
    @Threads(2)
    public boolean failsafeCount_2threads() {
        return failsafeCount();
    }

    @Benchmark
    @Threads(2)
    public boolean oursTime_2threads() {
        return oursTime();
    }

    @Benchmark
    @Threads(2)
    public boolean resilience4jTime_2threads() {
        return resilience4jTime();
    }

    @Benchmark
    @Threads(2)
    public boolean oursThrottle_2threads() {
        return oursThrottle();
    }
}
