package dev.resilience.benchmarks.lab;

import dev.failsafe.CircuitBreaker;
import dev.failsafe.CircuitBreakerOpenException;
import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.RetryPolicy;
import dev.resilience.benchmarks.lab.RunStats.Outcome;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * Failsafe 3.3.2: a retry policy outside a circuit breaker around one attempt of
 * {@link LabHttp#attempt}, with a bulkhead of 25 that never waits: innermost in the default row, between
 * the retry and the breaker in the tuned row.
 *
 * <p><b>The bulkhead is a {@link Semaphore}, not Failsafe's {@code Bulkhead}</b> (since 2026-12-03).
 * Failsafe 3.3.2's {@code Bulkhead} loses a permit each time it refuses: its executor asks
 * {@code tryAcquirePermit(maxWaitTime)}, which queues a waiter and, when the wait (zero here) runs
 * out, leaves it queued; the next release hands its permit to that abandoned waiter
 * (failsafe-lib/failsafe#393, open; a fix proposed in #400). Once it has refused 25 times it refuses
 * everything for good: the lab's Failsafe rows up to the fifth run measured that (no attempt sent
 * after the first overload, even in the ramp, which has no fault), not its breaker. The semaphore
 * does what the bulkhead is documented to do.
 *
 * <p><b>Where the bulkhead sits.</b> Default row: innermost, as Resilience4j's default row has it, so
 * a refusal is an exception the default retry retries and the default breaker counts as a failure
 * (Resilience4j's default breaker records every exception too). Tuned row: Resilience4j's tuned
 * breaker ignores bulkhead refusals; a Failsafe breaker has no "ignore" (an outcome its
 * {@code handleIf} does not match counts as a success, which under overload would dilute its
 * failure rate), so the tuned row puts the bulkhead outside the breaker, in a nested executor
 * ({@code retry} outside the gate outside {@code Failsafe.with(breaker)}), where a refusal never
 * reaches the breaker and the retry does not retry it. Up to the fifth run the tuned row had
 * Failsafe's bulkhead innermost with refusals counted as breaker successes.
 *
 * <ul>
 *   <li>{@code failsafe-default}: {@code RetryPolicy.ofDefaults()} (2 retries, no delay, every
 *       exception), {@code CircuitBreaker.ofDefaults()} (opens after 1 failure, closes after 1
 *       success, 1 min delay), and the bulkhead of 25 to match Resilience4j's. Each attempt's
 *       timeout is the call's remaining time.</li>
 *   <li>{@code failsafe-tuned}: 2 retries with backoff 50 ms to 1 s and 50 % jitter, not retrying its
 *       own refusals; breaker at 50 % failures of at least 20 executions in 10 s, 5 s delay, 5
 *       successes to close, bulkhead refusals not counted; bulkhead 25; per-attempt timeout 400 ms.</li>
 * </ul>
 */
final class FailsafeSetup extends Setup {

    /** The bulkhead's refusal (see the class comment). */
    static final class BulkheadFull extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BulkheadFull() {
            super("bulkhead full", null, false, false);
        }
    }

    private static final int BULKHEAD = 25;

    /** The outer policies: retry and breaker (default row) or retry alone (tuned row). */
    private final FailsafeExecutor<HttpResponse<Void>> executor;
    /** The breaker inside the bulkhead (tuned row), or null. */
    private final FailsafeExecutor<HttpResponse<Void>> insideBulkhead;
    private final long perAttemptNanos;
    private final Semaphore bulkhead = new Semaphore(BULKHEAD);

    private FailsafeSetup(String name, LabHttp http, FailsafeExecutor<HttpResponse<Void>> executor,
            FailsafeExecutor<HttpResponse<Void>> insideBulkhead, long perAttemptNanos) {
        super(name, http);
        this.executor = executor;
        this.insideBulkhead = insideBulkhead;
        this.perAttemptNanos = perAttemptNanos;
    }

    static FailsafeSetup defaults(LabHttp http) {
        RetryPolicy<HttpResponse<Void>> retry = RetryPolicy.ofDefaults();
        CircuitBreaker<HttpResponse<Void>> breaker = CircuitBreaker.ofDefaults();
        return new FailsafeSetup("failsafe-default", http, Failsafe.with(retry, breaker), null, Long.MAX_VALUE);
    }

    static FailsafeSetup tuned(LabHttp http) {
        RetryPolicy<HttpResponse<Void>> retry = RetryPolicy.<HttpResponse<Void>>builder()
                .withMaxRetries(2)
                .withBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .withJitter(0.5)
                .handleIf((r, e) -> e != null && !(e instanceof CircuitBreakerOpenException)
                        && !(e instanceof BulkheadFull))
                .build();
        CircuitBreaker<HttpResponse<Void>> breaker = CircuitBreaker.<HttpResponse<Void>>builder()
                .withFailureRateThreshold(50, 20, Duration.ofSeconds(10))
                .withDelay(Duration.ofSeconds(5))
                .withSuccessThreshold(5)
                .handleIf((r, e) -> e != null)
                .build();
        return new FailsafeSetup("failsafe-tuned", http, Failsafe.with(retry), Failsafe.with(breaker), PER_ATTEMPT_NANOS);
    }

    @Override
    Outcome call(long deadlineNanos) {
        try {
            executor.get(() -> {
                if (!bulkhead.tryAcquire()) {
                    throw new BulkheadFull();
                }
                try {
                    if (insideBulkhead == null) {
                        return http.attempt(deadlineNanos, perAttemptNanos);
                    }
                    try {
                        return insideBulkhead.get(() -> http.attempt(deadlineNanos, perAttemptNanos));
                    } catch (FailsafeException wrapped) { // the inner executor wraps a checked exception
                        throw wrapped.getCause() != null ? wrapped.getCause() : wrapped;
                    }
                } finally {
                    bulkhead.release();
                }
            });
            return Outcome.OK;
        } catch (CircuitBreakerOpenException | BulkheadFull e) {
            return Outcome.REFUSED;
        } catch (FailsafeException e) {
            return classify(e.getCause() == null ? e : e.getCause());
        } catch (RuntimeException e) {
            return classify(e);
        }
    }
}
