package dev.resilience.spring.autoconfigure;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.servlet.AdaptiveLimitFilter;
import dev.resilience.http.servlet.DeadlineFilter;
import dev.resilience.spring.ResilienceHttp;
import dev.resilience.spring.ResilienceSpringProperties;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import jakarta.servlet.Filter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.restclient.RestTemplateCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Lazy;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * HTTP in and out: the deadline filter in front of Spring MVC, the deadline on every
 * {@code RestClient} and {@code RestTemplate} built from Spring's builders, and
 * {@link ResilienceHttp} to guard a client with a configured pipeline.
 */
@AutoConfiguration(after = ResilienceAutoConfiguration.class)
// Everything here needs spring-web (a servlet web application has it too): without it, Spring Boot
// drops this class from its auto-configurations' metadata alone, before reading it.
@ConditionalOnClass(name = "org.springframework.http.client.ClientHttpRequestInterceptor")
// Only beside the core auto-configuration: an application that excludes it gets none of this.
@ConditionalOnBean(ResilienceRegistry.class)
public class ResilienceWebAutoConfiguration {

    /** Created by Spring Boot. */
    public ResilienceWebAutoConfiguration() {
    }

    /**
     * Guards for Spring's HTTP clients.
     *
     * @param registry the registry
     * @return the guards
     */
    @Bean
    @Lazy // created when first injected: an application that never asks for it does not pay for it at startup
    @ConditionalOnMissingBean
    ResilienceHttp resilienceHttp(ResilienceRegistry registry) {
        return new ResilienceHttp(registry);
    }

    /** The {@code resilience.spring.inbound.*} settings both inbound filters apply. */
    static InboundDeadlines inboundDeadlines(ResilienceSpringProperties.Inbound in) {
        InboundDeadlines.Builder b = InboundDeadlines.builder().trustIncoming(in.isTrustIncoming())
                .expiredStatus(in.getExpiredStatus());
        if (in.getMaxTimeout() != null) {
            b.maxTimeout(in.getMaxTimeout());
        }
        if (in.getDefaultTimeout() != null) {
            b.defaultTimeout(in.getDefaultTimeout());
        }
        return b.build();
    }

    /** The inbound deadline filter, on by default. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass({Filter.class, FilterRegistrationBean.class})
    @ConditionalOnBooleanProperty(name = "resilience.spring.inbound.enabled", matchIfMissing = true)
    static class Inbound {

        @Bean
        @ConditionalOnMissingBean(name = "resilienceDeadlineFilter")
        FilterRegistrationBean<DeadlineFilter> resilienceDeadlineFilter(ResilienceSpringProperties properties) {
            ResilienceSpringProperties.Inbound in = properties.getInbound();
            FilterRegistrationBean<DeadlineFilter> registration = new FilterRegistrationBean<>(
                    new DeadlineFilter(inboundDeadlines(in)));
            registration.setName("resilienceDeadlineFilter");
            registration.addUrlPatterns(in.getUrlPatterns());
            registration.setAsyncSupported(true);
            // First, so every other filter and the handler run within the caller's deadline.
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
            return registration;
        }

        @Bean
        @ConditionalOnBooleanProperty(name = "resilience.spring.inbound.limit.enabled")
        @ConditionalOnMissingBean(name = "resilienceAdaptiveLimitFilter")
        FilterRegistrationBean<AdaptiveLimitFilter> resilienceAdaptiveLimitFilter(ResilienceSpringProperties properties,
                ResilienceRegistry registry) {
            ResilienceSpringProperties.Inbound in = properties.getInbound();
            ResilienceSpringProperties.Limit limit = in.getLimit();
            AdaptiveLimitFilter.Builder b = AdaptiveLimitFilter.builder()
                    .defaultLimiter(registry.adaptiveLimiter(EnvironmentConfiguration.canonicalName(limit.getLimiter())))
                    .retryAfter(limit.getRetryAfter());
            for (java.util.Map.Entry<String, java.util.List<String>> route : limit.getRoutes().entrySet()) {
                AdaptiveLimiter limiter = registry.adaptiveLimiter(EnvironmentConfiguration.canonicalName(route.getKey()));
                for (String prefix : route.getValue()) {
                    b.route(prefix, limiter);
                }
            }
            FilterRegistrationBean<AdaptiveLimitFilter> registration = new FilterRegistrationBean<>(b.build());
            registration.setName("resilienceAdaptiveLimitFilter");
            registration.addUrlPatterns(in.getUrlPatterns());
            registration.setAsyncSupported(true);
            // Right after the deadline filter: it reads the context that filter made.
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 11);
            return registration;
        }
    }

    /**
     * The deadline on every {@code RestClient} and {@code RestTemplate} built from Spring Boot's
     * builders (one configuration class for both: each class Spring Boot reads costs startup time).
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.restclient.RestClientCustomizer")
    @ConditionalOnBooleanProperty(name = "resilience.spring.client.propagate-deadline", matchIfMissing = true)
    static class ClientDeadlines {

        @Bean
        RestClientCustomizer resilienceRestClientDeadline() {
            return builder -> builder.requestInterceptor(ResilienceHttp.deadlinePropagation());
        }

        @Bean
        RestTemplateCustomizer resilienceRestTemplateDeadline() {
            return template -> template.getInterceptors().add(ResilienceHttp.deadlinePropagation());
        }
    }
}
