package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.resilience.spring.internal.EnvironmentConfiguration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The registry's keys from every kind of Spring property source, in Spring's relaxed forms. */
class EnvironmentConfigurationTest {

    @Test
    void relaxedFormsPrecedenceListsAndPlaceholders() {
        StandardEnvironment env = new StandardEnvironment();
        Map<String, Object> yaml = new LinkedHashMap<>();
        yaml.put("resilience.circuitbreaker.payments.openDuration", "30s");          // camel case
        yaml.put("resilience.circuitBreaker.paymentsApi.open_duration", "40s");        // and more
        yaml.put("resilience.ratelimiter.payments.rate", "10/s");                     // overridden below
        yaml.put("resilience.pipeline.checkout.policies[0]", "retry:payments");       // a YAML list
        yaml.put("resilience.pipeline.checkout.policies[1]", "circuitbreaker:payments");
        yaml.put("resilience.retry.payments.max-attempts", "${attempts:4}");          // a placeholder
        yaml.put("resilience.bulkhead.payments.max-concurrent", 8);                   // a YAML number
        yaml.put("resilience.throttle.quotes.forcedPassInterval", "2s");              // the newest kind
        yaml.put("resilience.spring.inbound.enabled", "false");                       // the starter's own
        yaml.put("spring.application.name", "shop");                                  // not ours
        env.getPropertySources().addLast(new MapPropertySource("application.yml", yaml));
        env.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("RESILIENCE_RATELIMITER_PAYMENTS_RATE", "20/s")));

        Map<String, String> config = EnvironmentConfiguration.of(env);
        assertEquals("30s", config.get("resilience.circuitbreaker.payments.open-duration"));
        assertEquals("40s", config.get("resilience.circuitbreaker.paymentsapi.open-duration"));
        assertEquals("paymentsapi", EnvironmentConfiguration.canonicalName("paymentsApi"));
        assertEquals("a.b", EnvironmentConfiguration.canonicalName("a.b"));
        assertEquals("20/s", config.get("resilience.ratelimiter.payments.rate"), "the environment variable wins");
        assertEquals("retry:payments, circuitbreaker:payments", config.get("resilience.pipeline.checkout.policies"));
        assertEquals("4", config.get("resilience.retry.payments.max-attempts"));
        assertEquals("8", config.get("resilience.bulkhead.payments.max-concurrent"));
        assertEquals("2s", config.get("resilience.throttle.quotes.forced-pass-interval"));
        assertFalse(config.keySet().stream().anyMatch(k -> k.startsWith("resilience.spring")), config.toString());
        assertEquals(List.of("resilience.bulkhead.payments.max-concurrent", "resilience.circuitbreaker.payments.open-duration",
                "resilience.circuitbreaker.paymentsapi.open-duration", "resilience.pipeline.checkout.policies", "resilience.ratelimiter.payments.rate",
                "resilience.retry.payments.max-attempts", "resilience.throttle.quotes.forced-pass-interval"),
                List.copyOf(config.keySet()));
    }

    @Test
    void theRegistrysKeysAreTheIdesMetadata() {
        Map<String, java.util.Set<String>> declared = new LinkedHashMap<>();
        for (java.lang.reflect.RecordComponent kind : ResilienceInstanceProperties.class.getRecordComponents()) {
            Class<?> settings = (Class<?>) ((java.lang.reflect.ParameterizedType) kind.getGenericType()).getActualTypeArguments()[1];
            java.util.Set<String> properties = new java.util.TreeSet<>();
            for (java.lang.reflect.RecordComponent p : settings.getRecordComponents()) {
                properties.add(p.getName().replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT));
            }
            declared.put(kind.getName(), properties);
        }
        Map<String, java.util.Set<String>> registry = new LinkedHashMap<>();
        dev.resilience.core.ResilienceRegistry.configurationKeys().forEach((k, v) -> registry.put(k, new java.util.TreeSet<>(v)));
        assertEquals(declared, registry,
                "EnvironmentConfiguration maps relaxed names onto the registry's keys; the IDE metadata must list the same");
    }

    @Test
    void everyPropertyTheIdeCompletesIsOneTheRegistryKnows() {
        for (java.lang.reflect.RecordComponent kind : ResilienceInstanceProperties.class.getRecordComponents()) {
            Class<?> settings = (Class<?>) ((java.lang.reflect.ParameterizedType) kind.getGenericType()).getActualTypeArguments()[1];
            for (java.lang.reflect.RecordComponent p : settings.getRecordComponents()) {
                String property = p.getName().replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
                String key = "resilience." + kind.getName() + ".x." + property;
                try {
                    dev.resilience.core.ResilienceRegistry.of(Map.of(key, "?"));
                } catch (dev.resilience.core.ConfigurationException e) {
                    assertFalse(e.getMessage().contains("unknown property"), key + ": " + e.getMessage());
                }
            }
        }
    }
}
