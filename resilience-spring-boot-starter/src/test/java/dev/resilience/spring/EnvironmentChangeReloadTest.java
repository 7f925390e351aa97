package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/** Spring Cloud's EnvironmentChangeEvent (after a refresh) reloads the registry; a bad change is refused. */
class EnvironmentChangeReloadTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }

    @Test
    void aChangedEnvironmentReachesTheLiveInstances() {
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .properties("resilience.ratelimiter.api.rate=10/s", "resilience.bulkhead.db.max-concurrent=2").run()) {
            ResilienceRegistry registry = app.getBean(ResilienceRegistry.class);
            app.getEnvironment().getPropertySources().addFirst(new MapPropertySource("refreshed",
                    Map.of("resilience.ratelimiter.api.rate", "40/s", "resilience.bulkhead.db.max-concurrent", "5")));
            app.publishEvent(new EnvironmentChangeEvent(app, Set.of("resilience.ratelimiter.api.rate",
                    "resilience.bulkhead.db.max-concurrent")));
            assertEquals(40.0, registry.rateLimiter("api").rate(), 1e-9);
            assertEquals(5, registry.bulkhead("db").maxConcurrent());

            app.getEnvironment().getPropertySources().addFirst(new MapPropertySource("broken",
                    Map.of("resilience.ratelimiter.api.rate", "fast")));
            app.publishEvent(new EnvironmentChangeEvent(app, Set.of("resilience.ratelimiter.api.rate")));
            assertEquals(40.0, registry.rateLimiter("api").rate(), 1e-9, "a configuration with a problem changes nothing");
        }
    }

    @Test
    void aRefreshedThresholdDecidesTheLiveBreakersNextFailure() {
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .properties("resilience.circuitbreaker.payments.failure-rate-threshold=80",
                        "resilience.circuitbreaker.payments.count-window=10",
                        "resilience.circuitbreaker.payments.minimum-calls=4",
                        "resilience.circuitbreaker.payments.open-duration=1h").run()) {
            CircuitBreaker payments = app.getBean(ResilienceRegistry.class).circuitBreaker("payments");
            app.getEnvironment().getPropertySources().addFirst(new MapPropertySource("refreshed",
                    Map.of("resilience.circuitbreaker.payments.failure-rate-threshold", "50",
                            "resilience.circuitbreaker.payments.minimum-calls", "2")));
            app.publishEvent(new EnvironmentChangeEvent(app, Set.of("resilience.circuitbreaker.payments.failure-rate-threshold",
                    "resilience.circuitbreaker.payments.minimum-calls")));
            payments.tryAcquire().onSuccess();
            payments.tryAcquire().onFailure(new IOException("down"));
            assertEquals(CircuitBreaker.State.OPEN, payments.state(),
                    "1 of 2 failed: open under the refreshed 50 % over 2 calls (the old 80 % over 4 would not)");
        }
    }
}
