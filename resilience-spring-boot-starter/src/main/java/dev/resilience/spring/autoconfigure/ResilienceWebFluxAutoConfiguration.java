package dev.resilience.spring.autoconfigure;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.DeadlineWebFilter;
import dev.resilience.spring.ResilienceHttp;
import dev.resilience.spring.ResilienceSpringProperties;
import dev.resilience.spring.ResilienceWebClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Lazy;
import org.springframework.context.annotation.Configuration;

/**
 * The reactive side of HTTP in and out: the deadline filter in front of WebFlux
 * ({@link DeadlineWebFilter}, in a reactive web application), the deadline on every
 * {@code WebClient} built from Spring's {@code WebClient.Builder}, and {@link ResilienceWebClient}
 * to guard a {@code WebClient} with a configured pipeline. Each part only when its library is
 * present; the classes that name WebFlux types are loaded only then.
 */
@AutoConfiguration(after = {ResilienceAutoConfiguration.class, ResilienceWebAutoConfiguration.class})
// Everything here needs spring-webflux (a reactive web application has it too): without it (a Spring
// MVC application that does not use WebClient), Spring Boot drops this class from its
// auto-configurations' metadata alone, before reading it.
@ConditionalOnClass(name = "org.springframework.web.reactive.function.client.ExchangeFilterFunction")
// Only beside the core auto-configuration: an application that excludes it gets none of this.
@ConditionalOnBean(ResilienceRegistry.class)
public class ResilienceWebFluxAutoConfiguration {

    /** Created by Spring Boot. */
    public ResilienceWebFluxAutoConfiguration() {
    }

    /**
     * Guards for {@code WebClient}.
     *
     * @param http the guards of Spring's blocking clients, if there are some, to share their pipelines
     * @param registry the registry
     * @return the guards
     */
    @Bean
    @Lazy // created when first injected: an application that never asks for it does not pay for it at startup
    @ConditionalOnMissingBean
    ResilienceWebClient resilienceWebClient(ObjectProvider<ResilienceHttp> http, ResilienceRegistry registry) {
        return new ResilienceWebClient(http.getIfAvailable(() -> new ResilienceHttp(registry)));
    }

    /** The inbound deadline filter of a WebFlux application, on by default. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnClass(name = {"org.springframework.web.server.WebFilter", "reactor.core.publisher.Mono"})
    @ConditionalOnBooleanProperty(name = "resilience.spring.inbound.enabled", matchIfMissing = true)
    static class Inbound {

        @Bean
        @ConditionalOnMissingBean(name = "resilienceDeadlineWebFilter")
        DeadlineWebFilter resilienceDeadlineWebFilter(ResilienceSpringProperties properties) {
            return new DeadlineWebFilter(ResilienceWebAutoConfiguration.inboundDeadlines(properties.getInbound()));
        }
    }

    /** The deadline on every {@code WebClient}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.webclient.WebClientCustomizer")
    @ConditionalOnBooleanProperty(name = "resilience.spring.client.propagate-deadline", matchIfMissing = true)
    static class WebClientDeadlines {

        @Bean
        WebClientCustomizer resilienceWebClientDeadline() {
            return builder -> builder.filter(ResilienceWebClient.deadlinePropagation());
        }
    }
}
