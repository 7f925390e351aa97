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
    /**
     * The README's properties under "Configuration from properties", read from the README itself:
     * they build, and an instance not configured at all gets the defaults (its snippet asks for one).
     */
    @Test
    void theReadmesRegistryPropertiesBuildAndAnUnconfiguredNameGetsTheDefaults() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
        int section = readme.indexOf("## Configuration from properties");
        int start = readme.indexOf("```properties\n", section) + "```properties\n".length();
        String block = readme.substring(start, readme.indexOf("```", start));
        java.util.Properties properties = new java.util.Properties();
        properties.load(new java.io.StringReader(block));
        ResilienceRegistry registry = ResilienceRegistry.of(properties);
        Pipeline<Receipt> payments = registry.pipeline("payments");
        assertEquals(new Receipt("o-2"), payments.call(() -> pay("o-2")));
        RateLimiter api = registry.rateLimiter("api"); // as the README's snippet does
        assertEquals(100.0, api.rate(), 1e-9);
        assertEquals(10, api.burst());
    }
}
