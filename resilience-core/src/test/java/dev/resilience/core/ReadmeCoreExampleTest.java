package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's guard example, verbatim in {@link #readmeExample}. */
class ReadmeCoreExampleTest {

    record Receipt(String order) {
        static Receipt deferred() {
            return new Receipt("deferred");
        }
    }

    static Receipt pay(String order) {
        return new Receipt(order);
    }

    Receipt readmeExample(String order) throws Exception {
        RateLimiter limiter = RateLimiter.builder("payments").rate(10).burst(3).build();
        CircuitBreaker breaker = CircuitBreaker.builder("payments").openDuration(Duration.ofSeconds(30)).build();
        Bulkhead bulkhead = Bulkhead.builder("payments").maxConcurrent(20).maxWait(Duration.ofMillis(5)).build();

        Receipt r = limiter.call(() -> breaker.call(() -> bulkhead.call(() -> pay(order))));
        return r;
    }

    @Test
    void readmeExampleRuns() throws Exception {
        assertEquals(new Receipt("o-1"), readmeExample("o-1"));
    }

    /** The README's pipeline example, verbatim between the declarations and the return. */
    Receipt readmePipelineExample(String order, CircuitBreaker breaker) throws Exception {
        Retry retry = Retry.builder("payments").build();
        RateLimiter limiter = RateLimiter.builder("payments").rate(10).burst(3).build();
        Timeout timeout = Timeout.builder("payments").timeout(Duration.ofSeconds(2)).build();
        Bulkhead bulkhead = Bulkhead.builder("payments").maxConcurrent(20).build();

        Pipeline<Receipt> payments = Pipeline.<Receipt>builder("payments")   // outermost first
                .add(Fallback.<Receipt>on(RefusedException.class).to(e -> Receipt.deferred()))
                .add(retry).add(breaker).add(limiter).add(timeout).add(bulkhead)
                .build();
        Receipt r = payments.call(() -> pay(order));
        return r;
    }

    @Test
    void readmePipelineExampleRunsAndFallsBackWhileTheBreakerIsOpen() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("payments").build();
        assertEquals(new Receipt("o-2"), readmePipelineExample("o-2", breaker));
        breaker.forceOpen();
        assertEquals(Receipt.deferred(), readmePipelineExample("o-3", breaker));
    }
}
