package dev.resilience.spring.autoconfigure;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.cloud.ReactiveResilienceCircuitBreakerFactory;
import dev.resilience.spring.cloud.ResilienceCircuitBreakerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.cloud.client.circuitbreaker.CircuitBreakerFactory;
import org.springframework.cloud.client.circuitbreaker.Customizer;
import org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreakerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Lazy;
import org.springframework.context.annotation.Configuration;

/**
 * Spring Cloud CircuitBreaker's factories over the registry, when spring-cloud-commons is present
 * (the reactive one when Reactor is too): OpenFeign, Spring Cloud Gateway and HTTP interface
 * clients then run through the registry's instances. Off with
 * {@code resilience.spring.cloud.enabled=false}; an application's own factory wins. Beans of type
 * {@code Customizer<ResilienceCircuitBreakerFactory>} (or of the reactive factory) configure them,
 * as Resilience4j's do.
 */
// Spring Cloud's (and Spring's) types in this API are the point: the application reads them itself.
@SuppressWarnings("exports")
// Before the auto-configurations that look for a factory bean: spring-cloud-commons' HTTP service
// group decorators, OpenFeign's circuit breaker targeter.
@AutoConfiguration(after = ResilienceAutoConfiguration.class, beforeName = {
    "org.springframework.cloud.client.CommonsClientAutoConfiguration",
    "org.springframework.cloud.openfeign.FeignAutoConfiguration"})
@ConditionalOnClass(name = "org.springframework.cloud.client.circuitbreaker.CircuitBreakerFactory")
@ConditionalOnBooleanProperty(name = "resilience.spring.cloud.enabled", matchIfMissing = true)
// Only beside the core auto-configuration: an application that excludes it gets none of this.
@ConditionalOnBean(ResilienceRegistry.class)
public class ResilienceCloudAutoConfiguration {

    /** Created by Spring Boot. */
    public ResilienceCloudAutoConfiguration() {
    }

    /**
     * The blocking factory.
     *
     * @param registry the registry
     * @param customizers the application's customizers, in order
     * @return the factory
     */
    @Bean
    @Lazy // created when first injected: an application that never asks for it does not pay for it at startup
    @ConditionalOnMissingBean(CircuitBreakerFactory.class)
    public ResilienceCircuitBreakerFactory resilienceCircuitBreakerFactory(ResilienceRegistry registry,
            ObjectProvider<Customizer<ResilienceCircuitBreakerFactory>> customizers) {
        ResilienceCircuitBreakerFactory factory = new ResilienceCircuitBreakerFactory(registry);
        customizers.orderedStream().forEach(c -> c.customize(factory));
        return factory;
    }

    /** The reactive factory, when Reactor is present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "reactor.core.publisher.Mono")
    static class Reactive {

        @Bean
        @Lazy // created when first injected: an application that never asks for it does not pay for it at startup
        @ConditionalOnMissingBean(ReactiveCircuitBreakerFactory.class)
        ReactiveResilienceCircuitBreakerFactory reactiveResilienceCircuitBreakerFactory(ResilienceRegistry registry,
                ObjectProvider<Customizer<ReactiveResilienceCircuitBreakerFactory>> customizers) {
            ReactiveResilienceCircuitBreakerFactory factory = new ReactiveResilienceCircuitBreakerFactory(registry);
            customizers.orderedStream().forEach(c -> c.customize(factory));
            return factory;
        }
    }
}
