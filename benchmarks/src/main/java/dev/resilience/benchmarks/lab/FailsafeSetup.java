package dev.resilience.benchmarks.lab;

import dev.failsafe.Bulkhead;
import dev.failsafe.BulkheadFullException;
import dev.failsafe.CircuitBreaker;
import dev.failsafe.CircuitBreakerOpenException;
import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.RetryPolicy;
import dev.resilience.benchmarks.lab.RunStats.Outcome;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Failsafe 3.3.2: {@code Failsafe.with(retryPolicy, circuitBreaker, bulkhead)} (outermost first)
 * around one attempt of {@link LabHttp#attempt}.
 *
 * <ul>
 *   <li>{@code failsafe-default}: {@code RetryPolicy.ofDefaults()} (2 retries, no delay, every
 *       exception), {@code CircuitBreaker.ofDefaults()} (opens after 1 failure, closes after 1
 *       success, 1 min delay), and {@code Bulkhead.of(25)} (no wait) to match Resilience4j's
 *       bulkhead. Each attempt's timeout is the call's remaining time.</li>
 *   <li>{@code failsafe-tuned}: 2 retries with backoff 50 ms to 1 s and 50 % jitter, not retrying its
 *       own refusals; breaker at 50 % failures of at least 20 executions in 10 s, 5 s delay, 5
 *       successes to close, bulkhead refusals not counted; bulkhead 25; per-attempt timeout 400 ms.</li>
 * </ul>
 */
final class FailsafeSetup extends Setup {

    private final FailsafeExecutor<HttpResponse<Void>> executor;
    private final long perAttemptNanos;

    private FailsafeSetup(String name, LabHttp http, FailsafeExecutor<HttpResponse<Void>> executor,
            long perAttemptNanos) {
        super(name, http);
        this.executor = executor;
        this.perAttemptNanos = perAttemptNanos;
    }

    static FailsafeSetup defaults(LabHttp http) {
        RetryPolicy<HttpResponse<Void>> retry = RetryPolicy.ofDefaults();
        CircuitBreaker<HttpResponse<Void>> breaker = CircuitBreaker.ofDefaults();
        Bulkhead<HttpResponse<Void>> bulkhead = Bulkhead.of(25);
        return new FailsafeSetup("failsafe-default", http, Failsafe.with(retry, breaker, bulkhead), Long.MAX_VALUE);
    }

    static FailsafeSetup tuned(LabHttp http) {
        RetryPolicy<HttpResponse<Void>> retry = RetryPolicy.<HttpResponse<Void>>builder()
                .withMaxRetries(2)
                .withBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .withJitter(0.5)
                .handleIf((r, e) -> e != null && !(e instanceof CircuitBreakerOpenException)
                        && !(e instanceof BulkheadFullException))
                .build();
        CircuitBreaker<HttpResponse<Void>> breaker = CircuitBreaker.<HttpResponse<Void>>builder()
                .withFailureRateThreshold(50, 20, Duration.ofSeconds(10))
                .withDelay(Duration.ofSeconds(5))
                .withSuccessThreshold(5)
                .handleIf((r, e) -> e != null && !(e instanceof BulkheadFullException))
                .build();
        Bulkhead<HttpResponse<Void>> bulkhead = Bulkhead.of(25);
        return new FailsafeSetup("failsafe-tuned", http, Failsafe.with(retry, breaker, bulkhead), PER_ATTEMPT_NANOS);
    }

    @Override
    Outcome call(long deadlineNanos) {
        try {
            executor.get(() -> http.attempt(deadlineNanos, perAttemptNanos));
            return Outcome.OK;
        } catch (CircuitBreakerOpenException | BulkheadFullException e) {
            return Outcome.REFUSED;
        } catch (FailsafeException e) {
            return classify(e.getCause() == null ? e : e.getCause());
        } catch (RuntimeException e) {
            return classify(e);
        }
    }
}
