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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A closed breaker guarding a successful call: acquire a permit, record a success. The peers are
 * called without timing the call (Resilience4j gets a zero duration, Failsafe records directly), so
 * only the breaker is measured. Count-based: a 50% failure-rate threshold over the last 100 calls.
 * Time-based: over the last 10 one-second buckets.
 *
 * <p>{@code Mixed} rows: every tenth call of each thread fails (10 % failures, under the 50 %
 * threshold, so the breakers stay closed and record both outcomes). {@code RejectedOpen} rows: each
 * library's breaker tripped open with a day to wait, refusing (a clock read to decide whether the
 * wait is over); {@code RejectedForcedOpen}: held open by the operator (no clock).
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
    private final dev.failsafe.CircuitBreaker<Object> failsafeTime = dev.failsafe.CircuitBreaker.builder()
            .withFailureRateThreshold(50, 100, Duration.ofSeconds(10)).build();

    private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4jOpen =
            io.github.resilience4j.circuitbreaker.CircuitBreaker.of("open", CircuitBreakerConfig.custom()
                    .waitDurationInOpenState(Duration.ofDays(1)).build());
    private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4jForcedOpen =
            io.github.resilience4j.circuitbreaker.CircuitBreaker.ofDefaults("forced");
    private final dev.failsafe.CircuitBreaker<Object> failsafeOpen =
            dev.failsafe.CircuitBreaker.builder().withDelay(Duration.ofDays(1)).build();

    private static final java.io.IOException FAILED = new java.io.IOException("failed");

    /** Each thread's call count: every tenth call fails. */
    @State(Scope.Thread)
    public static class Calls {
        int n;

        boolean fails() {
            if (++n == 10) {
                n = 0;
                return true;
            }
            return false;
        }
    }

    {
        r4jOpen.transitionToOpenState();
        r4jForcedOpen.transitionToForcedOpenState();
        failsafeOpen.open();
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

    @Benchmark
    public boolean failsafeTime() {
        boolean ok = failsafeTime.tryAcquirePermit();
        failsafeTime.recordSuccess();
        return ok;
    }

    /** The Mixed rows measure closed breakers: one that tripped (10 % is under every threshold) would be a bug, not a figure. */
    @TearDown(Level.Iteration)
    public void checkClosed() {
        if (oursCount.state() != CircuitBreaker.State.CLOSED || oursTime.state() != CircuitBreaker.State.CLOSED
                || r4jCount.getState() != io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED
                || r4jTime.getState() != io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED
                || !failsafeCount.isClosed() || !failsafeTime.isClosed()) {
            throw new IllegalStateException("a breaker left CLOSED: " + oursCount + ", " + oursTime + ", "
                    + r4jCount.getState() + ", " + r4jTime.getState() + ", " + failsafeCount.getState() + ", "
                    + failsafeTime.getState());
        }
    }

    private static boolean mixed(CircuitBreaker breaker, Calls calls) {
        Permit p = breaker.tryAcquire();
        if (calls.fails()) {
            p.onFailure(FAILED);
        } else {
            p.onSuccess();
        }
        return p.isPermitted();
    }

    private static boolean mixed(io.github.resilience4j.circuitbreaker.CircuitBreaker breaker, Calls calls) {
        boolean ok = breaker.tryAcquirePermission();
        if (calls.fails()) {
            breaker.onError(0, TimeUnit.NANOSECONDS, FAILED);
        } else {
            breaker.onSuccess(0, TimeUnit.NANOSECONDS);
        }
        return ok;
    }

    private static boolean mixed(dev.failsafe.CircuitBreaker<Object> breaker, Calls calls) {
        boolean ok = breaker.tryAcquirePermit();
        if (calls.fails()) {
            breaker.recordFailure();
        } else {
            breaker.recordSuccess();
        }
        return ok;
    }

    @Benchmark
    public boolean oursCountMixed(Calls calls) {
        return mixed(oursCount, calls);
    }

    @Benchmark
    public boolean resilience4jCountMixed(Calls calls) {
        return mixed(r4jCount, calls);
    }

    @Benchmark
    public boolean failsafeCountMixed(Calls calls) {
        return mixed(failsafeCount, calls);
    }

    @Benchmark
    public boolean oursTimeMixed(Calls calls) {
        return mixed(oursTime, calls);
    }

    @Benchmark
    public boolean resilience4jTimeMixed(Calls calls) {
        return mixed(r4jTime, calls);
    }

    @Benchmark
    public boolean failsafeTimeMixed(Calls calls) {
        return mixed(failsafeTime, calls);
    }

    @Benchmark
    @Threads(2)
    public boolean oursCountMixed_2threads(Calls calls) {
        return mixed(oursCount, calls);
    }

    @Benchmark
    @Threads(2)
    public boolean resilience4jCountMixed_2threads(Calls calls) {
        return mixed(r4jCount, calls);
    }

    @Benchmark
    @Threads(2)
    public boolean failsafeCountMixed_2threads(Calls calls) {
        return mixed(failsafeCount, calls);
    }

    @Benchmark
    @Threads(2)
    public boolean oursTimeMixed_2threads(Calls calls) {
        return mixed(oursTime, calls);
    }

    @Benchmark
    @Threads(2)
    public boolean resilience4jTimeMixed_2threads(Calls calls) {
        return mixed(r4jTime, calls);
    }

    @Benchmark
    @Threads(2)
    public boolean failsafeTimeMixed_2threads(Calls calls) {
        return mixed(failsafeTime, calls);
    }

    @Benchmark
    public boolean resilience4jRejectedOpen() {
        return r4jOpen.tryAcquirePermission();
    }

    @Benchmark
    public boolean failsafeRejectedOpen() {
        return failsafeOpen.tryAcquirePermit();
    }

    @Benchmark
    public boolean resilience4jRejectedForcedOpen() {
        return r4jForcedOpen.tryAcquirePermission();
    }

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
