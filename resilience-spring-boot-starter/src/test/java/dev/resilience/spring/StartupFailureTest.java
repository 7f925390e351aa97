package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.ConfigurationException;
import dev.resilience.core.ConfigurationException.Problem;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.Resilient;
import dev.resilience.spring.annotation.Retry;
import dev.resilience.spring.internal.ConfigurationFailureAnalyzer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Flux;

/** A wrong configuration or annotation stops startup, and the report lists every problem. */
@ExtendWith(OutputCaptureExtension.class)
class StartupFailureTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Empty {
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @org.springframework.scheduling.annotation.EnableAsync
    static class WithBadAnnotations {
        @Bean
        BadlyAnnotated badlyAnnotated() {
            return new BadlyAnnotated();
        }
    }

    static class BadlyAnnotated {
        @Retry(name = "default", fallbackMethod = "recover")
        public String noMatchingFallback(String order) {
            return order;
        }

        String recover(String order) { // no exception parameter
            return order;
        }

        Integer recover(String order, Exception e) { // the wrong return type
            return 0;
        }

        @Retry(name = "default")
        public org.reactivestreams.Publisher<String> stream() { // a Flux is guarded; a bare Publisher is ambiguous
            return Flux.empty();
        }

        @org.springframework.scheduling.annotation.Async
        @Retry(name = "default")
        public void fireAndForget() {
        }

        @Resilient(name = "checkout")
        @Retry(name = "default")
        public String stacked() {
            return "";
        }

        @Retry(name = "default", fallbackMethod = "one")
        @CircuitBreaker(name = "default", fallbackMethod = "two")
        public String twoFallbacks() {
            return "";
        }

        String one(Exception e) {
            return "";
        }

        String two(Exception e) {
            return "";
        }

        @Bulkhead(name = "unsized")
        public String bulkheadWithoutSize() {
            return "";
        }
    }

    /** The same {@code @Async} method, in an application that does not enable async execution. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class AsyncNotEnabled {
        @Bean
        AsyncLooking asyncLooking() {
            return new AsyncLooking();
        }
    }

    static class AsyncLooking {
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

        public int calls() {
            return calls.get();
        }

        @org.springframework.scheduling.annotation.Async
        @Retry(name = "quick")
        public void fireAndForget() {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("flaky once");
            }
        }
    }

    @Test
    void withoutEnableAsyncAnAsyncMethodIsGuardedAsAnyOther() {
        try (var context = new SpringApplicationBuilder(AsyncNotEnabled.class).web(WebApplicationType.NONE)
                .properties("resilience.retry.quick.max-attempts=3", "resilience.retry.quick.backoff=fixed",
                        "resilience.retry.quick.backoff-delay=0ms")
                .run()) {
            AsyncLooking bean = context.getBean(AsyncLooking.class);
            bean.fireAndForget();
            assertEquals(2, bean.calls(), "@Async does nothing here: the call ran on this thread, retried once");
        }
    }

    private static ConfigurationException startupFailure(Class<?> app, String... properties) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> new SpringApplicationBuilder(app)
                .web(WebApplicationType.NONE).properties(properties).run().close());
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConfigurationException c) {
                return c;
            }
        }
        throw new AssertionError("startup failed without a ConfigurationException", e);
    }

    @Test
    void aBadApplicationYmlListsEveryProblem() {
        ConfigurationException e = startupFailure(Empty.class, "spring.config.location=classpath:bad-resilience.yml");
        List<String> keys = e.problems().stream().map(Problem::key).toList();
        assertTrue(keys.contains("resilience.circuitbreakr.payments.open-duration"), keys.toString());
        assertTrue(keys.contains("resilience.circuitbreaker.payments.open-duration"), keys.toString());
        assertTrue(keys.contains("resilience.circuitbreaker.payments.failure-rate-threshold"), keys.toString());
        assertTrue(keys.contains("resilience.ratelimiter.payments.max-concurrent"), keys.toString());
        assertEquals(4, e.problems().size(), e.getMessage());

        FailureAnalysis analysis = new ConfigurationFailureAnalyzer().analyze(e);
        assertTrue(analysis.getDescription().startsWith("The resilience configuration has 4 problems:"),
                analysis.getDescription());
        for (String key : keys) {
            assertTrue(analysis.getDescription().contains(key), key);
        }
        assertTrue(analysis.getDescription().contains("did you mean circuitbreaker?"), analysis.getDescription());
    }

    @Test
    void springBootReportsWithTheAnalyzer(CapturedOutput output) {
        startupFailure(Empty.class, "spring.config.location=classpath:bad-resilience.yml");
        assertTrue(output.getAll().contains("The resilience configuration has 4 problems:"), output.getAll());
        assertTrue(output.getAll().contains("Correct the resilience.* properties"), output.getAll());
    }

    @Test
    void wrongAnnotationsStopStartupListingEveryProblemOfTheBean() {
        ConfigurationException e = startupFailure(WithBadAnnotations.class);
        String all = e.getMessage();
        assertTrue(all.contains("noMatchingFallback(String)"), all);
        assertTrue(all.contains("fallbackMethod 'recover' matches no method: wanted String recover(String, <Throwable or a subtype>)"), all);
        assertTrue(all.contains("BadlyAnnotated.recover(String): the last parameter must be a Throwable"), all);
        assertTrue(all.contains("BadlyAnnotated.recover(String, Exception): returns Integer, not String"), all);
        assertTrue(all.contains("returns Publisher: declare Flux or Mono"), all);
        assertTrue(all.contains("is @Async and returns void: the guard would see only the task's submission"), all);
        assertTrue(all.contains("@Resilient names a whole pipeline: it cannot be stacked"), all);
        assertTrue(all.contains("name different fallback methods [one, two]"), all);
        assertTrue(all.contains("resilience.bulkhead.unsized.max-concurrent"), all);
        assertTrue(all.contains("needed by"), all);
        assertTrue(all.contains("(bean 'badlyAnnotated')"), all);
        assertEquals(7, e.problems().size(), all);
    }
}
