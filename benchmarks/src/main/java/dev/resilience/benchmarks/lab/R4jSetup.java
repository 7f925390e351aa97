package dev.resilience.benchmarks.lab;

import dev.resilience.benchmarks.lab.RunStats.Outcome;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;

/**
 * Resilience4j 2.4.0: Retry outside CircuitBreaker outside Bulkhead (its documented aspect order,
 * retry outermost), around one attempt of {@link LabHttp#attempt}.
 *
 * <ul>
 *   <li>{@code r4j-default}: {@code Retry.ofDefaults} (3 attempts, 500 ms wait, every exception
 *       retried), {@code CircuitBreaker.ofDefaults} (50 % failures over a count window of 100 calls,
 *       at least 100 calls, 60 s open, 10 calls half-open; every exception recorded, bulkhead
 *       refusals included), {@code Bulkhead.ofDefaults} (25 concurrent, no wait). Each attempt's
 *       timeout is the call's remaining time (the JDK client's request timeout: Resilience4j's
 *       TimeLimiter needs an asynchronous call).</li>
 *   <li>{@code r4j-tuned}: what a careful user writes: retry 3 attempts with exponential backoff
 *       from 50 ms x2, 50 % randomisation, capped at 1 s, not retrying its own refusals; breaker over
 *       a 10 s time window, at least 20 calls, 50 %, 5 s open, 5 calls half-open, bulkhead refusals
 *       ignored; bulkhead 25, no wait; per-attempt timeout 400 ms.</li>
 * </ul>
 */
final class R4jSetup extends Setup {

    private final Retry retry;
    private final CircuitBreaker breaker;
    private final Bulkhead bulkhead;
    private final long perAttemptNanos;

    private R4jSetup(String name, LabHttp http, Retry retry, CircuitBreaker breaker, Bulkhead bulkhead,
            long perAttemptNanos) {
        super(name, http);
        this.retry = retry;
        this.breaker = breaker;
        this.bulkhead = bulkhead;
        this.perAttemptNanos = perAttemptNanos;
    }

    static R4jSetup defaults(LabHttp http) {
        String n = "r4j-default";
        return new R4jSetup(n, http, Retry.ofDefaults(n), CircuitBreaker.ofDefaults(n), Bulkhead.ofDefaults(n),
                Long.MAX_VALUE);
    }

    static R4jSetup tuned(LabHttp http) {
        String n = "r4j-tuned";
        RetryConfig retry = RetryConfig.custom().maxAttempts(3)
                .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(Duration.ofMillis(50), 2.0, 0.5,
                        Duration.ofSeconds(1)))
                .ignoreExceptions(CallNotPermittedException.class, BulkheadFullException.class)
                .build();
        CircuitBreakerConfig breaker = CircuitBreakerConfig.custom()
                .slidingWindow(10, 20, CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(5))
                .permittedNumberOfCallsInHalfOpenState(5)
                .ignoreExceptions(BulkheadFullException.class)
                .build();
        BulkheadConfig bulkhead = BulkheadConfig.custom().maxConcurrentCalls(25).maxWaitDuration(Duration.ZERO).build();
        return new R4jSetup(n, http, Retry.of(n, retry), CircuitBreaker.of(n, breaker), Bulkhead.of(n, bulkhead),
                PER_ATTEMPT_NANOS);
    }

    @Override
    Outcome call(long deadlineNanos) {
        try {
            retry.executeCheckedSupplier(() -> breaker.executeCheckedSupplier(
                    () -> bulkhead.executeCheckedSupplier(() -> http.attempt(deadlineNanos, perAttemptNanos))));
            return Outcome.OK;
        } catch (CallNotPermittedException | BulkheadFullException e) {
            return Outcome.REFUSED;
        } catch (Throwable e) {
            return classify(e);
        }
    }
}
