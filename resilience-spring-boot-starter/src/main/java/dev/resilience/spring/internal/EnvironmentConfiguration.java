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
 *
 * <p>Spring's canonical form lowercases names and drops the dashes of camel case
 * ({@code openDuration} is {@code openduration}); kinds and properties are matched back to the
 * registry's kebab-case names ({@code open-duration}) as Spring's binder matches them, ignoring case,
 * dashes and underscores. Instance names stay in canonical form: {@code paymentsApi} in YAML is
 * {@code paymentsapi}, and {@link #canonicalName(String)} turns an annotation's name into the same.
 */
public final class EnvironmentConfiguration {

    static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("resilience");
    static final ConfigurationPropertyName OWN = ConfigurationPropertyName.of("resilience.spring");

    private EnvironmentConfiguration() {
    }

    /** Kind (by its uniform form) to its key, and each kind's properties (by uniform form) to their keys. */
    private static final Map<String, String> KINDS = new java.util.HashMap<>();
    private static final Map<String, Map<String, String>> PROPERTIES = new java.util.HashMap<>();

    static {
        for (java.lang.reflect.RecordComponent kind : dev.resilience.spring.ResilienceInstanceProperties.class.getRecordComponents()) {
            KINDS.put(uniform(kind.getName()), kind.getName());
            Class<?> settings = (Class<?>) ((java.lang.reflect.ParameterizedType) kind.getGenericType()).getActualTypeArguments()[1];
            Map<String, String> props = new java.util.HashMap<>();
            for (java.lang.reflect.RecordComponent p : settings.getRecordComponents()) {
                String kebab = p.getName().replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
                props.put(uniform(kebab), kebab);
            }
            PROPERTIES.put(kind.getName(), props);
        }
    }

    /** Letters and digits only, lower case: how Spring's binder compares names. */
    private static String uniform(String s) {
        return s.replaceAll("[^A-Za-z0-9]", "").toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * An instance name as the registry knows it when it comes from Spring's environment:
     * {@code paymentsApi} is {@code paymentsapi}.
     */
    public static String canonicalName(String name) {
        return name.isEmpty() ? name : ConfigurationPropertyName.adapt(name, '.').toString();
    }

    /** {@code key} with its kind and property segments in the registry's spelling, if known. */
    private static String registryKey(String key) {
        String[] parts = key.split("\\.", -1);
        if (parts.length < 4 || key.indexOf('[') >= 0) {
            return key;
        }
        String kind = KINDS.get(uniform(parts[1]));
        if (kind == null) {
            return key;
        }
        parts[1] = kind;
        parts[parts.length - 1] = PROPERTIES.get(kind).getOrDefault(uniform(parts[parts.length - 1]), parts[parts.length - 1]);
        return String.join(".", parts);
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
                String key = registryKey(name.toString());
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
