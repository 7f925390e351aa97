package dev.resilience.spring.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.ResilienceInstanceProperties;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

class EnvironmentEdgeCasesTest {

    private static StandardEnvironment env(Map<String, Object> high, Map<String, Object> low) {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().addFirst(new MapPropertySource("low (application.yml)", low));
        env.getPropertySources().addFirst(new MapPropertySource("high (application-prod.yml)", high));
        return env;
    }

    @Test
    void aShorterListInAHigherSourceReplacesTheLowerList() {
        Map<String, Object> low = new LinkedHashMap<>();
        low.put("resilience.pipeline.checkout.policies[0]", "retry:a");
        low.put("resilience.pipeline.checkout.policies[1]", "circuitbreaker:a");
        low.put("resilience.pipeline.checkout.policies[2]", "bulkhead:a");
        Map<String, Object> high = new LinkedHashMap<>();
        high.put("resilience.pipeline.checkout.policies[0]", "retry:b");
        high.put("resilience.pipeline.checkout.policies[1]", "circuitbreaker:b");
        StandardEnvironment env = env(high, low);
        // What Spring's binder makes of it:
        java.util.List<String> spring = Binder.get(env).bind("resilience.pipeline.checkout.policies",
                org.springframework.boot.context.properties.bind.Bindable.listOf(String.class)).orElse(null);
        assertEquals(java.util.List.of("retry:b", "circuitbreaker:b"), spring, "Spring's view");
        assertEquals("retry:b, circuitbreaker:b", EnvironmentConfiguration.of(env).get("resilience.pipeline.checkout.policies"));
    }

    @Test
    void aListInAHigherSourceBeatsAScalarInALowerOne() {
        Map<String, Object> low = Map.of("resilience.pipeline.checkout.policies", "retry:a, circuitbreaker:a");
        Map<String, Object> high = Map.of("resilience.pipeline.checkout.policies[0]", "retry:b");
        assertEquals("retry:b", EnvironmentConfiguration.of(env(high, low)).get("resilience.pipeline.checkout.policies"));
    }

    @Test
    void camelCaseInstanceNamesWorkInAPipeline() {
        Map<String, Object> yaml = new LinkedHashMap<>();
        yaml.put("resilience.retry.paymentsApi.max-attempts", "2");
        yaml.put("resilience.circuitbreaker.paymentsApi.consecutive-failures", "3");
        yaml.put("resilience.pipeline.checkout.policies", "retry:paymentsApi, circuitbreaker:paymentsApi");
        try {
            ResilienceRegistry.of(EnvironmentConfiguration.of(env(Map.of(), yaml)));
        } catch (RuntimeException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    @Test
    void theEnvironmentVariableFormSpringsBinderAcceptsIsReadTheSame() {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("RESILIENCE_CIRCUITBREAKER_PAYMENTS_OPEN_DURATION", "5s")));
        String spring = Binder.get(env).bind("resilience", ResilienceInstanceProperties.class)
                .map(p -> p.circuitbreaker() == null || p.circuitbreaker().get("payments") == null ? "unbound"
                        : p.circuitbreaker().get("payments").openDuration()).orElse("unbound");
        assertEquals(Map.of("resilience.circuitbreaker.payments.open-duration", "5s"), EnvironmentConfiguration.of(env),
                "Spring's binder read: " + spring);
    }
}
