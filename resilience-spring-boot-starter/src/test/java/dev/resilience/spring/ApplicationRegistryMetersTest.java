package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.autoconfigure.ResilienceAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * An application that defines its own {@code ResilienceRegistry} bean: the starter steps back
 * (no second registry) and still binds the registry's instances to the application's meters.
 */
class ApplicationRegistryMetersTest {

    @Configuration(proxyBeanMethods = false)
    static class OwnRegistry {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }

        @Bean
        ResilienceRegistry resilienceRegistry() {
            return ResilienceRegistry.of(Map.of("resilience.circuitbreaker.payments.count-window", "20",
                    "resilience.circuitbreaker.payments.failure-rate-threshold", "25"));
        }

        /** Built by application code during startup, under a name the configuration does not have. */
        @Bean
        CircuitBreaker inventoryBreaker(ResilienceRegistry registry) {
            return registry.circuitBreaker("inventory");
        }
    }

    @Test
    void theApplicationsOwnRegistryGetsMetersForWhatItConfiguresAndWhatWasBuilt() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ResilienceAutoConfiguration.class))
                .withUserConfiguration(OwnRegistry.class)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    ResilienceRegistry registry = context.getBean(ResilienceRegistry.class);
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    assertNotNull(meters.find("resilience.circuitbreaker.state").tags("name", "payments").gauge(),
                            "the configured breaker, built at startup as the starter's own registry does");
                    assertNotNull(meters.find("resilience.circuitbreaker.state").tags("name", "inventory").gauge(),
                            "the breaker application code built");
                    CircuitBreaker inventory = registry.circuitBreaker("inventory");
                    inventory.call(() -> "ok");
                    assertEquals(1.0, meters.get("resilience.circuitbreaker.calls")
                            .tags("name", "inventory", "outcome", "success").counter().count(), "counted once");
                });
    }
}
