package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.spring.autoconfigure.ResilienceActuatorAutoConfiguration;
import dev.resilience.spring.autoconfigure.ResilienceAutoConfiguration;
import dev.resilience.spring.autoconfigure.ResilienceWebAutoConfiguration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.support.PropertiesLoaderUtils;

/**
 * The HTTP client and Actuator parts are each one auto-configuration whose class-level condition
 * names the library it needs (so Spring Boot drops it from metadata alone when the library is
 * absent): present with the library, absent without it, and the rest of the starter unaffected.
 */
class OptionalPartsTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ResilienceAutoConfiguration.class,
                    ResilienceWebAutoConfiguration.class, ResilienceActuatorAutoConfiguration.class))
            .withPropertyValues("resilience.circuitbreaker.payments.consecutive-failures=3",
                    "management.endpoints.web.exposure.include=resilience");

    /**
     * What lets Spring Boot drop a part without reading its class: the condition in the metadata the
     * annotation processor generates (the runners below register the classes directly, past that filter).
     */
    @Test
    void theMetadataNamesEachPartsLibrary() throws Exception {
        Properties metadata = PropertiesLoaderUtils.loadAllProperties("META-INF/spring-autoconfigure-metadata.properties");
        String prefix = "dev.resilience.spring.autoconfigure.";
        assertEquals("org.springframework.http.client.ClientHttpRequestInterceptor",
                metadata.getProperty(prefix + "ResilienceWebAutoConfiguration.ConditionalOnClass"));
        assertEquals("org.springframework.web.reactive.function.client.ExchangeFilterFunction",
                metadata.getProperty(prefix + "ResilienceWebFluxAutoConfiguration.ConditionalOnClass"));
        assertEquals("org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint",
                metadata.getProperty(prefix + "ResilienceActuatorAutoConfiguration.ConditionalOnClass"));
        assertEquals("org.springframework.cloud.client.circuitbreaker.CircuitBreakerFactory",
                metadata.getProperty(prefix + "ResilienceCloudAutoConfiguration.ConditionalOnClass"));
    }

    @Test
    void withSpringWebAndActuatorEveryPartIsDefined() {
        runner.run(context -> {
            assertNull(context.getStartupFailure());
            for (String bean : new String[] {"resilienceHttp", "resilienceRestClientDeadline",
                "resilienceRestTemplateDeadline", "resilienceEndpoint", "resilienceHealthIndicator"}) {
                assertTrue(context.containsBean(bean), bean);
            }
        });
    }

    @Test
    void theDeadlineCustomizersGoTogetherAndTheGuardsStay() {
        runner.withPropertyValues("resilience.spring.client.propagate-deadline=false").run(context -> {
            assertNull(context.getStartupFailure());
            assertFalse(context.containsBean("resilienceRestClientDeadline"));
            assertFalse(context.containsBean("resilienceRestTemplateDeadline"));
            assertTrue(context.containsBean("resilienceHttp"));
        });
    }

    @Test
    void withoutSpringWebNoHttpPart() {
        runner.withClassLoader(new FilteredClassLoader("org.springframework.http.", "org.springframework.web.",
                "org.springframework.boot.restclient.")).run(context -> {
                    assertNull(context.getStartupFailure());
                    assertFalse(context.containsBean("resilienceHttp"));
                    assertFalse(context.containsBean("resilienceRestClientDeadline"));
                    assertFalse(context.containsBean("resilienceRestTemplateDeadline"));
                    assertTrue(context.containsBean("resilienceRegistry"));
                    assertTrue(context.containsBean("resilienceEndpoint"), "Actuator's parts do not need spring-web");
                });
    }

    @Test
    void withoutSpringBootRestClientTheGuardsStay() {
        runner.withClassLoader(new FilteredClassLoader("org.springframework.boot.restclient.")).run(context -> {
            assertNull(context.getStartupFailure());
            assertTrue(context.containsBean("resilienceHttp"));
            assertFalse(context.containsBean("resilienceRestClientDeadline"));
            assertFalse(context.containsBean("resilienceRestTemplateDeadline"));
        });
    }

    @Test
    void withoutActuatorNoEndpointAndNoHealthIndicator() {
        runner.withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate.")).run(context -> {
            assertNull(context.getStartupFailure());
            assertFalse(context.containsBean("resilienceEndpoint"));
            assertFalse(context.containsBean("resilienceHealthIndicator"));
            assertTrue(context.containsBean("resilienceRegistry"));
            assertTrue(context.containsBean("resilienceHttp"), "the HTTP parts do not need Actuator");
        });
    }

    @Test
    void theHealthIndicatorCanBeTurnedOffAlone() {
        runner.withPropertyValues("resilience.spring.health.enabled=false").run(context -> {
            assertNull(context.getStartupFailure());
            assertFalse(context.containsBean("resilienceHealthIndicator"));
            assertTrue(context.containsBean("resilienceEndpoint"));
        });
    }
}
