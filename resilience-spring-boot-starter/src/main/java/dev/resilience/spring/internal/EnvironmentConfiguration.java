package dev.resilience.spring.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * The {@code resilience.*} keys of a Spring environment as the registry reads them: every
 * property source (YAML, properties, environment variables, system properties, command line), in
 * Spring's relaxed form ({@code RESILIENCE_RATELIMITER_API_RATE} and
 * {@code resilience.rateLimiter.api.rate} are both {@code resilience.ratelimiter.api.rate}), the
 * source of highest precedence winning; lists ({@code policies:} as a YAML list) joined with commas;
 * placeholders resolved. The starter's own settings under {@code resilience.spring} are left out.
 */
public final class EnvironmentConfiguration {

    static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("resilience");
    static final ConfigurationPropertyName OWN = ConfigurationPropertyName.of("resilience.spring");

    private EnvironmentConfiguration() {
    }

    /** The registry's configuration in {@code environment}, keys in canonical form. */
    public static Map<String, String> of(ConfigurableEnvironment environment) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            if (!(source instanceof IterableConfigurationPropertySource iterable)) {
                continue;
            }
            iterable.filter(ROOT::isAncestorOf).stream().forEach(name -> {
                if (OWN.equals(name) || OWN.isAncestorOf(name)) {
                    return;
                }
                String key = name.toString();
                if (!values.containsKey(key)) { // sources come highest precedence first
                    ConfigurationProperty p = source.getConfigurationProperty(name);
                    if (p != null) {
                        values.put(key, p.getValue());
                    }
                }
            });
        }
        Map<String, String> out = new TreeMap<>();
        Map<String, TreeMap<Integer, String>> lists = new TreeMap<>();
        values.forEach((key, value) -> {
            String text = value == null ? "" : environment.resolvePlaceholders(String.valueOf(value));
            int bracket = key.lastIndexOf('[');
            if (bracket > 0 && key.endsWith("]")) {
                try {
                    int index = Integer.parseInt(key.substring(bracket + 1, key.length() - 1));
                    lists.computeIfAbsent(key.substring(0, bracket), k -> new TreeMap<>()).put(index, text);
                    return;
                } catch (NumberFormatException notAnIndex) {
                    // a map key in brackets: kept as is, and the registry names it
                }
            }
            out.put(key, text);
        });
        lists.forEach((key, items) -> {
            if (!out.containsKey(key)) { // a comma-separated value of higher precedence wins
                out.put(key, String.join(", ", new ArrayList<>(items.values())));
            }
        });
        return out;
    }
}
