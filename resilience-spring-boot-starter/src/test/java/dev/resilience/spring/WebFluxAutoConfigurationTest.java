package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.spring.autoconfigure.ResilienceAutoConfiguration;
import dev.resilience.spring.autoconfigure.ResilienceWebAutoConfiguration;
import dev.resilience.spring.autoconfigure.ResilienceWebFluxAutoConfiguration;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.webclient.WebClientCustomizer;

/**
 * Which reactive parts the starter registers: the WebFilter only in a reactive web application,
 * configured by {@code resilience.spring.inbound.*}; the WebClient parts whenever WebFlux is present;
 * nothing, and no failure, in an application without WebFlux.
 */
class WebFluxAutoConfigurationTest {

    private static final AutoConfigurations STARTER = AutoConfigurations.of(ResilienceAutoConfiguration.class,
            ResilienceWebAutoConfiguration.class, ResilienceWebFluxAutoConfiguration.class);

    @Test
    void aReactiveApplicationGetsTheConfiguredFilterAndTheClientParts() {
        new ReactiveWebApplicationContextRunner().withConfiguration(STARTER)
                .withPropertyValues("resilience.spring.inbound.expired-status=503",
                        "resilience.spring.inbound.max-timeout=10s", "resilience.spring.inbound.default-timeout=2s")
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    DeadlineWebFilter filter = context.getBean(DeadlineWebFilter.class);
                    assertEquals(503, filter.deadlines().expiredStatus());
                    assertEquals(Duration.ofSeconds(10), filter.deadlines().maxTimeout().orElseThrow());
                    assertEquals(Duration.ofSeconds(2), filter.deadlines().defaultTimeout().orElseThrow());
                    assertTrue(filter.deadlines().trustIncoming());
                    assertEquals(1, context.getBeansOfType(ResilienceWebClient.class).size());
                    assertEquals(1, context.getBeansOfType(WebClientCustomizer.class).size());
                });
    }

    @Test
    void theFilterAndThePropagationCanBeTurnedOff() {
        new ReactiveWebApplicationContextRunner().withConfiguration(STARTER)
                .withPropertyValues("resilience.spring.inbound.enabled=false",
                        "resilience.spring.client.propagate-deadline=false")
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(context.getBeansOfType(DeadlineWebFilter.class).isEmpty());
                    assertTrue(context.getBeansOfType(WebClientCustomizer.class).isEmpty());
                    assertEquals(1, context.getBeansOfType(ResilienceWebClient.class).size(), "guards stay available");
                });
    }

    @Test
    void aServletApplicationGetsNoWebFilter() {
        new WebApplicationContextRunner().withConfiguration(STARTER).run(context -> {
            assertNull(context.getStartupFailure());
            assertTrue(context.getBeansOfType(DeadlineWebFilter.class).isEmpty());
            assertEquals(1, context.getBeansOfType(ResilienceWebClient.class).size());
        });
    }

    @Test
    void withoutSpringBootWebClientTheGuardsStayAndNoCustomizer() {
        new ReactiveWebApplicationContextRunner().withConfiguration(STARTER)
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.webclient."))
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(context.containsBean("resilienceWebClient"));
                    assertTrue(context.containsBean("resilienceDeadlineWebFilter"));
                    assertTrue(!context.containsBean("resilienceWebClientDeadline"));
                });
    }

    @Test
    void anApplicationWithoutWebFluxStartsWithoutTheReactiveParts() {
        new ApplicationContextRunner().withConfiguration(STARTER)
                .withClassLoader(new FilteredClassLoader("org.springframework.web.reactive.",
                        "org.springframework.boot.webclient.", "reactor."))
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(context.getBeanNamesForType(ResilienceWebClient.class).length == 0);
                    assertTrue(context.getBeanNamesForType(DeadlineWebFilter.class).length == 0);
                    assertTrue(context.containsBean("resilienceRegistry"));
                });
    }
}
