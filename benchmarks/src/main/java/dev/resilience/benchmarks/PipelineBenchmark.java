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
import dev.resilience.core.Timeout;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.timelimiter.TimeLimiter;
import io.github.resilience4j.timelimiter.TimeLimiterConfig;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A successful call through retry alone, and through fallback + retry + circuit breaker + rate
 * limiter + bulkhead, in that order (outermost first), with the same policies in each library: 3
 * attempts with 10 ms fixed backoff, a count-based breaker of 100 calls at 50%, a limiter that always
 * has a permit, 100 bulkhead slots. Resilience4j's decorators are built once; its fallback is a
 * try/catch (the cheapest form). Failsafe's executor is built once.
 *
 * <p>Slow calls: Resilience4j's breaker times every call for its slow-call check (on by default:
 * 100 % of calls slower than 60 s); ours tracks slow calls only when asked. {@code pipelineSlowCalls}
 * rows have both timing every call (ours with the same 60 s / 100 % check over 100 calls);
 * {@code pipelineUntimed} rows have neither: Resilience4j's timestamp function replaced by a
 * constant (it has no switch for the check), ours as in {@code pipeline}.
 *
 * <p>Timeouts: {@code pipelineTimeout} rows add a 1 s timeout inside the retry: ours a
 * {@code Timeout} (a child context with a deadline, no timer), Failsafe its {@code Timeout} policy
 * (for a synchronous call it arms a timer on its scheduler); Resilience4j has no synchronous time
 * limiter. {@code async} rows run retry + breaker around a call that returns a completed stage
 * ({@code callAsync}; Resilience4j's {@code decorateCompletionStage}, its breaker untimed as ours;
 * Failsafe's {@code getStageAsync}, which runs the supplier on the common pool whatever
 * {@code with(Executor)} says: its rows hop threads and are not equal work, kept as information;
 * the {@code failsafeInline} rows give it a scheduler that runs what is due now on the calling
 * thread, {@link InlineFailsafeScheduler}: equal work);
 * {@code asyncTimeout} rows add a 1 s time limit (ours: {@code Timeout}; Resilience4j: its
 * {@code TimeLimiter}, which arms a timer on the scheduler it is given; Failsafe: {@code Timeout}).
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
    private final Fallback<Object> oursFallback = Fallback.<Object>always().toValue("fallback");
    private final CircuitBreaker oursBreaker =
            CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100).build();
    private final RateLimiter oursLimiter = RateLimiter.builder("rl").rate(1e9).burst(LOTS).build();
    private final Bulkhead oursBulkhead = Bulkhead.builder("bh").maxConcurrent(100).build();
    private final Pipeline<Object> oursPipeline = Pipeline.<Object>builder("p")
            .add(oursFallback)
            .add(oursRetry)
            .add(CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100).build())
            .add(RateLimiter.builder("rl").rate(1e9).burst(LOTS).build())
            .add(Bulkhead.builder("bh").maxConcurrent(100).build())
            .inDefaultOrder().build();
    /** oursFallback around oursRetry around ... oursBulkhead, by hand, the callables built once: {@code nested_ours}. */
    private final Callable<Object> nestedBulkhead = () -> oursBulkhead.call(TASK);
    private final Callable<Object> nestedLimiter = () -> oursLimiter.call(nestedBulkhead);
    private final Callable<Object> nestedBreaker = () -> oursBreaker.call(nestedLimiter);
    private final Callable<Object> nestedRetry = () -> oursRetry.call(nestedBreaker);
    private final Callable<Object> nestedFallback = () -> oursFallback.call(nestedRetry);

    private final io.github.resilience4j.retry.Retry r4jRetry = io.github.resilience4j.retry.Retry.of("r",
            RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(10)).build());
    private final Callable<Object> r4jRetryOnly = io.github.resilience4j.retry.Retry.decorateCallable(r4jRetry, TASK);
    private final Callable<Object> r4jStack = r4jStack(CircuitBreakerConfig.ofDefaults());

    private final RetryPolicy<Object> failsafeRetryPolicy =
            RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ofMillis(10)).build();
    private final FailsafeExecutor<Object> failsafeRetryOnly = Failsafe.with(failsafeRetryPolicy);
    private final FailsafeExecutor<Object> failsafeStack = Failsafe.with(
            dev.failsafe.Fallback.of("fallback"),
            failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build(),
            dev.failsafe.RateLimiter.burstyBuilder(LOTS, Duration.ofSeconds(1)).build(),
            dev.failsafe.Bulkhead.builder(100).build());

    private final Pipeline<Object> oursSlowCalls = Pipeline.<Object>builder("p")
            .add(Fallback.<Object>always().toValue("fallback"))
            .add(oursRetry)
            .add(CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100)
                    .slowCallRateThreshold(100, Duration.ofSeconds(60), 100).build())
            .add(RateLimiter.builder("rl").rate(1e9).burst(LOTS).build())
            .add(Bulkhead.builder("bh").maxConcurrent(100).build())
            .inDefaultOrder().build();
    private final Callable<Object> r4jUntimed = r4jStack(CircuitBreakerConfig.custom()
            .currentTimestampFunction(clock -> 0L, TimeUnit.NANOSECONDS).build());

    private final Pipeline<Object> oursTimeout = Pipeline.<Object>builder("p")
            .add(Fallback.<Object>always().toValue("fallback"))
            .add(oursRetry)
            .add(CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100).build())
            .add(RateLimiter.builder("rl").rate(1e9).burst(LOTS).build())
            .add(Timeout.builder("t").timeout(Duration.ofSeconds(1)).build())
            .add(Bulkhead.builder("bh").maxConcurrent(100).build())
            .inDefaultOrder().build();
    private final FailsafeExecutor<Object> failsafeTimeout = Failsafe.with(
            dev.failsafe.Fallback.of("fallback"),
            failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build(),
            dev.failsafe.RateLimiter.burstyBuilder(LOTS, Duration.ofSeconds(1)).build(),
            dev.failsafe.Timeout.of(Duration.ofSeconds(1)),
            dev.failsafe.Bulkhead.builder(100).build());

    private static final CompletionStage<Object> DONE = CompletableFuture.completedFuture("ok");
    private static final Supplier<CompletionStage<Object>> ASYNC_TASK = () -> DONE;
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "bench-scheduler");
        t.setDaemon(true);
        return t;
    });

    {
        scheduler.setRemoveOnCancelPolicy(true); // a cancelled time limit leaves the queue at once
    }
    private final Pipeline<Object> oursAsync = Pipeline.<Object>builder("p")
            .add(oursRetry)
            .add(CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100).build())
            .inDefaultOrder().build();
    private final Pipeline<Object> oursAsyncTimeout = Pipeline.<Object>builder("p")
            .add(oursRetry)
            .add(CircuitBreaker.builder("cb").failureRateThreshold(50, 100).countWindow(100).build())
            .add(Timeout.builder("t").timeout(Duration.ofSeconds(1)).build())
            .inDefaultOrder().build();
    /** Untimed, as ours (its slow-call check off the only way it can be: a constant timestamp). */
    private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4jAsyncBreaker =
            io.github.resilience4j.circuitbreaker.CircuitBreaker.of("cb", CircuitBreakerConfig.custom()
                    .currentTimestampFunction(clock -> 0L, TimeUnit.NANOSECONDS).build());
    private final Supplier<CompletionStage<Object>> r4jAsync = io.github.resilience4j.retry.Retry
            .decorateCompletionStage(r4jRetry, scheduler, io.github.resilience4j.circuitbreaker.CircuitBreaker
                    .decorateCompletionStage(r4jAsyncBreaker, ASYNC_TASK));
    private final TimeLimiter r4jTimeLimiter = TimeLimiter.of(TimeLimiterConfig.custom()
            .timeoutDuration(Duration.ofSeconds(1)).build());
    private final Supplier<CompletionStage<Object>> r4jAsyncTimeout = io.github.resilience4j.retry.Retry
            .decorateCompletionStage(r4jRetry, scheduler, io.github.resilience4j.circuitbreaker.CircuitBreaker
                    .decorateCompletionStage(r4jAsyncBreaker,
                            r4jTimeLimiter.decorateCompletionStage(scheduler, ASYNC_TASK)));
    private final FailsafeExecutor<Object> failsafeAsync = Failsafe.with(failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build()).with(Runnable::run);
    private final FailsafeExecutor<Object> failsafeAsyncTimeout = Failsafe.with(failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build(),
            dev.failsafe.Timeout.<Object>of(Duration.ofSeconds(1))).with(Runnable::run);
    /** Failsafe's async rows again on a scheduler that runs what is due now on the caller's thread: equal work. */
    private final InlineFailsafeScheduler inlineFailsafe = new InlineFailsafeScheduler(scheduler);
    private final FailsafeExecutor<Object> failsafeAsyncInline = Failsafe.with(failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build()).with(inlineFailsafe);
    private final FailsafeExecutor<Object> failsafeAsyncTimeoutInline = Failsafe.with(failsafeRetryPolicy,
            dev.failsafe.CircuitBreaker.builder().withFailureThreshold(50, 100).build(),
            dev.failsafe.Timeout.<Object>of(Duration.ofSeconds(1))).with(inlineFailsafe);

    /** Resilience4j's stack of {@link #pipeline_resilience4j} with a breaker of {@code config}. */
    private Callable<Object> r4jStack(CircuitBreakerConfig config) {
        return io.github.resilience4j.retry.Retry.decorateCallable(r4jRetry,
                io.github.resilience4j.circuitbreaker.CircuitBreaker.decorateCallable(
                        io.github.resilience4j.circuitbreaker.CircuitBreaker.of("cb", config),
                        io.github.resilience4j.ratelimiter.RateLimiter.decorateCallable(
                                io.github.resilience4j.ratelimiter.RateLimiter.of("rl", RateLimiterConfig.custom()
                                        .limitForPeriod(LOTS).limitRefreshPeriod(Duration.ofSeconds(1))
                                        .timeoutDuration(Duration.ZERO).build()),
                                io.github.resilience4j.bulkhead.Bulkhead.decorateCallable(
                                        io.github.resilience4j.bulkhead.Bulkhead.of("bh", BulkheadConfig.custom()
                                                .maxConcurrentCalls(100).maxWaitDuration(Duration.ZERO).build()),
                                        TASK))));
    }

    @TearDown
    public void stop() {
        scheduler.shutdownNow();
    }

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

    // Each of the pipeline's policies alone, the same call: the pipeline's own cost is
    // pipeline_ours minus their sum (retry_ours is the retry alone).

    @Benchmark
    public Object aloneFallback_ours() throws Exception {
        return oursFallback.call(TASK);
    }

    @Benchmark
    public Object aloneBreaker_ours() throws Exception {
        return oursBreaker.call(TASK);
    }

    @Benchmark
    public Object aloneLimiter_ours() throws Exception {
        return oursLimiter.call(TASK);
    }

    @Benchmark
    public Object aloneBulkhead_ours() throws Exception {
        return oursBulkhead.call(TASK);
    }

    /**
     * The same five policies composed by hand, as a user without a pipeline would: each one's
     * {@code call} around the next, the callables built once. What such a user pays, not the sum of
     * the policies: outside a pipeline each policy reaches its task through one shared call site
     * ({@code Invoker.direct()}), which sees five callable types here and one in each row alone.
     */
    @Benchmark
    public Object nested_ours() throws Exception {
        return nestedFallback.call();
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

    @Benchmark
    public Object pipelineSlowCalls_ours() throws Exception {
        return oursSlowCalls.call(TASK);
    }

    @Benchmark
    public Object pipelineSlowCalls_resilience4j() {
        return pipeline_resilience4j();
    }

    @Benchmark
    public Object pipelineUntimed_ours() throws Exception {
        return oursPipeline.call(TASK);
    }

    @Benchmark
    public Object pipelineUntimed_resilience4j() {
        try {
            return r4jUntimed.call();
        } catch (Exception e) {
            return "fallback";
        }
    }

    @Benchmark
    public Object pipelineTimeout_ours() throws Exception {
        return oursTimeout.call(TASK);
    }

    @Benchmark
    public Object pipelineTimeout_failsafe() {
        return failsafeTimeout.get(() -> "ok");
    }

    @Benchmark
    public Object async_ours() {
        return oursAsync.callAsync(ASYNC_TASK).toCompletableFuture().join();
    }

    @Benchmark
    public Object async_resilience4j() {
        return r4jAsync.get().toCompletableFuture().join();
    }

    @Benchmark
    public Object async_failsafe() {
        return failsafeAsync.getStageAsync(() -> DONE).join();
    }

    @Benchmark
    public Object async_failsafeInline() {
        return failsafeAsyncInline.getStageAsync(() -> DONE).join();
    }

    @Benchmark
    public Object asyncTimeout_ours() {
        return oursAsyncTimeout.callAsync(ASYNC_TASK).toCompletableFuture().join();
    }

    @Benchmark
    public Object asyncTimeout_resilience4j() {
        return r4jAsyncTimeout.get().toCompletableFuture().join();
    }

    @Benchmark
    public Object asyncTimeout_failsafe() {
        return failsafeAsyncTimeout.getStageAsync(() -> DONE).join();
    }

    @Benchmark
    public Object asyncTimeout_failsafeInline() {
        return failsafeAsyncTimeoutInline.getStageAsync(() -> DONE).join();
    }
}
