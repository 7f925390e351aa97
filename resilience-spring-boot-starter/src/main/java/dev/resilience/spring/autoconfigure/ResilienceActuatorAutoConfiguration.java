package dev.resilience.spring.autoconfigure;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.ResilienceEndpoint;
import dev.resilience.spring.ResilienceHealthIndicator;
import dev.resilience.spring.ResilienceReloader;
import dev.resilience.spring.ResilienceSpringProperties;
import dev.resilience.spring.ResilienceWritableEndpoint;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code resilience} Actuator endpoint and the breakers' health indicator, when Actuator is present
 * (a health indicator without Actuator would have no endpoint to show it).
 */
@AutoConfiguration(after = ResilienceAutoConfiguration.class)
// Without Actuator, Spring Boot drops this class from its auto-configurations' metadata alone, before reading it.
@ConditionalOnClass(name = "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint")
// Only beside the core auto-configuration: an application that excludes it gets none of this.
@ConditionalOnBean(ResilienceRegistry.class)
public class ResilienceActuatorAutoConfiguration {

    /** Created by Spring Boot. */
    public ResilienceActuatorAutoConfiguration() {
    }

    /**
     * The endpoint; read-only unless {@code resilience.spring.endpoint.write-enabled=true}.
     *
     * @param registry the registry
     * @param properties the starter's settings
     * @param reloader what the writable endpoint's reload operation calls
     * @return the endpoint
     */
    @Bean
    @ConditionalOnAvailableEndpoint(ResilienceEndpoint.class)
    @ConditionalOnMissingBean(ResilienceEndpoint.class)
    ResilienceEndpoint resilienceEndpoint(ResilienceRegistry registry, ResilienceSpringProperties properties,
            ResilienceReloader reloader) {
        return properties.getEndpoint().isWriteEnabled()
                ? new ResilienceWritableEndpoint(registry, reloader) : new ResilienceEndpoint(registry);
    }

    /** The breakers' health. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnBooleanProperty(name = "resilience.spring.health.enabled", matchIfMissing = true)
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "resilienceHealthIndicator")
        ResilienceHealthIndicator resilienceHealthIndicator(ResilienceRegistry registry,
                ResilienceSpringProperties properties) {
            return new ResilienceHealthIndicator(registry, properties.getHealth().isOpenIsDown());
        }
    }
}
