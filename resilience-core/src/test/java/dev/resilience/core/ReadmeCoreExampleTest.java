package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's guard example, verbatim in {@link #readmeExample}. */
class ReadmeCoreExampleTest {

    record Receipt(String order) {
    }

    static Receipt pay(String order) {
        return new Receipt(order);
    }

    Receipt readmeExample(String order) throws Exception {
        RateLimiter limiter = RateLimiter.builder("payments").rate(10).burst(3).build();
        CircuitBreaker breaker = CircuitBreaker.builder("payments").timeout(Duration.ofSeconds(30)).build();
        Bulkhead bulkhead = Bulkhead.builder("payments").maxConcurrent(20).maxWait(Duration.ofMillis(5)).build();

        Receipt r = limiter.call(() -> breaker.call(() -> bulkhead.call(() -> pay(order))));
        return r;
    }

    @Test
    void readmeExampleRuns() throws Exception {
        assertEquals(new Receipt("o-1"), readmeExample("o-1"));
    }
}
