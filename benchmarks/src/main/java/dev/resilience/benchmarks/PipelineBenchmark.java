package dev.resilience.benchmarks;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.RetryPolicy;
import dev.resilience.core.Backoff;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Fallback;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.Retry;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A successful call through retry alone, and through fallback + retry + circuit breaker + rate
 * limiter + bulkhead, in that order (outermost first), with the same policies in each library: 3
 * attempts with 10 ms fixed backoff, a count-based breaker of 100 calls at 50%, a limiter that always
 * has a permit, 100 bulkhead slots. Resilience4j's decorators are built once; its fallback is a
 * try/catch (the cheapest form). Failsafe's executor is built once.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class PipelineBenchmark {

    private static final int LOTS = 1_000_000_000;
    private static final Callable<Object> TASK = () -> "ok";

    private final Retry oursRetry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(10))).build();
    private final Pipeline<Object> oursPipeline = Pipeline.<Object>builder("p")
            .add(Fallback.<Object>always().toValue("fallback"))
            .add(oursRetry)
            .add(CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100).build())
            .add(RateLimiter.builder("rl").rate(1e9).burst(LOTS).build())
            .add(Bulkhead.builder("bh").maxConcurrent(100).build())
            .inDefaultOrder().build();

    private final io.github.resilience4j.retry.Retry r4jRetry = io.github.resilience4j.retry.Retry.of("r",
            RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(10)).build());
    private final Callable<Object> r4jRetryOnly = io.github.resilience4j.retry.Retry.decorateCallable(r4jRetry, TASK);
    private final Callable<Object> r4jStack = io.github.resilience4j.retry.Retry.decorateCallable(r4jRetry,
            io.github.resilience4j.circuitbreaker.CircuitBreaker.decorateCallable(
                    io.github.resilience4j.circuitbreaker.CircuitBreaker.ofDefaults("cb"),
                    io.github.resilience4j.ratelimiter.RateLimiter.decorateCallable(
                            io.github.resilience4j.ratelimiter.RateLimiter.of("rl", RateLimiterConfig.custom()
                                    .limitForPeriod(LOTS).limitRefreshPeriod(Duration.ofSeconds(1))
                                    .timeoutDuration(Duration.ZERO).build()),
                            io.github.resilience4j.bulkhead.Bulkhead.decorateCallable(
                                    io.github.resilience4j.bulkhead.Bulkhead.of("bh", BulkheadConfig.custom()
                                            .maxConcurrentCalls(100).maxWaitDuration(Duration.ZERO).build()),
                                    TASK))));

    private final RetryPolicy<Object> failsafeRetryPolicy =
            RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ofMillis(10)).build();
    private final FailsafeExecutor<Object> failsafeRetryOnly = Failsafe.with(failsafeRetryPolicy);
    private final FailsafeExecutor<Object> failsafeStack = Failsafe.with(
            dev.failsafe.Fallback.of("fallback"),
            failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build(),
            dev.failsafe.RateLimiter.burstyBuilder(LOTS, Duration.ofSeconds(1)).build(),
            dev.failsafe.Bulkhead.builder(100).build());

    @Benchmark
    public Object retry_ours() throws Exception {
        return oursRetry.call(TASK);
    }

    @Benchmark
    public Object retry_resilience4j() throws Exception {
        return r4jRetryOnly.call();
    }

    @Benchmark
    public Object retry_failsafe() {
        return failsafeRetryOnly.get(() -> "ok");
    }

    @Benchmark
    public Object pipeline_ours() throws Exception {
        return oursPipeline.call(TASK);
    }

    @Benchmark
    public Object pipeline_resilience4j() {
        try {
            return r4jStack.call();
        } catch (Exception e) {
            return "fallback";
        }
    }

    @Benchmark
    public Object pipeline_failsafe() {
        return failsafeStack.get(() -> "ok");
    }
}
