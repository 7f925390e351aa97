package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resilience.core.ResilienceRegistry;
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
}
