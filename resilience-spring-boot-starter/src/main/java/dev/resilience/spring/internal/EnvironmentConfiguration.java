package dev.resilience.spring.internal;

import dev.resilience.core.ResilienceRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
    private static final Map<String, String> KINDS = new HashMap<>();
    private static final Map<String, Map<String, String>> PROPERTIES = new HashMap<>();

    static {
        // The registry's own table of keys (no reflection over the metadata record: that would load its
        // nine classes and parse their generic signatures at every startup).
        for (Map.Entry<String, List<String>> kind : ResilienceRegistry.configurationKeys().entrySet()) {
            KINDS.put(uniform(kind.getKey()), kind.getKey());
            Map<String, String> props = new HashMap<>();
            for (String p : kind.getValue()) {
                props.put(uniform(p), p);
            }
            PROPERTIES.put(kind.getKey(), props);
        }
    }

    /** Letters and digits only, lower case: how Spring's binder compares names. */
    private static String uniform(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                b.append(c);
            } else if (c >= 'A' && c <= 'Z') {
                b.append((char) (c + ('a' - 'A')));
            }
        }
        return b.toString();
    }

    /**
     * An instance name as the registry knows it when it comes from Spring's environment:
     * {@code paymentsApi} is {@code paymentsapi}.
     */
    public static String canonicalName(String name) {
        return name.isEmpty() ? name : ConfigurationPropertyName.adapt(name, '.').toString();
    }

    /**
     * True if {@code key}, in any of Spring's relaxed forms, is a key of the registry: under
     * {@code resilience.} and not the starter's own {@code resilience.spring.}.
     */
    public static boolean isRegistryKey(String key) {
        ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
        return ROOT.isAncestorOf(name) && !OWN.equals(name) && !OWN.isAncestorOf(name);
    }

    /**
     * {@code key} with its kind and property segments in the registry's spelling, if known: the
     * property is matched ignoring case and dashes, and, as Spring's binder does for environment
     * variables ({@code ..._PAYMENTS_OPEN_DURATION} is {@code payments.open.duration}), the last
     * segments are joined when the last alone is no property. An index suffix ({@code [0]}) stays.
     */
    private static String registryKey(String key) {
        String index = "";
        int bracket = key.lastIndexOf('[');
        if (bracket > 0 && key.endsWith("]")) {
            index = key.substring(bracket);
            key = key.substring(0, bracket);
        }
        if (key.indexOf('[') >= 0) {
            return key + index;
        }
        String[] parts = key.split("\\.", -1);
        if (parts.length < 4) {
            return key + index;
        }
        String kind = KINDS.get(uniform(parts[1]));
        if (kind == null) {
            return key + index;
        }
        Map<String, String> properties = PROPERTIES.get(kind);
        String last = properties.get(uniform(parts[parts.length - 1]));
        if (last != null) {
            parts[1] = kind;
            parts[parts.length - 1] = last;
            return String.join(".", parts) + index;
        }
        for (int from = 3; from < parts.length - 1; from++) { // the longest property first
            String joined = properties.get(uniform(String.join("-", Arrays.asList(parts).subList(from, parts.length))));
            if (joined != null) {
                return "resilience." + kind + "." + String.join(".", Arrays.asList(parts).subList(2, from)) + "." + joined + index;
            }
        }
        parts[1] = kind;
        return String.join(".", parts) + index;
    }

    /**
     * The registry's configuration in {@code environment}, keys in canonical form. Each key's value
     * comes from the source of highest precedence that gives it, as a value or as a list: a list is
     * taken whole from one source, never merged with a lower one's elements (as Spring's binder does).
     */
    public static Map<String, String> of(ConfigurableEnvironment environment) {
        Map<String, String> out = new TreeMap<>();
        Set<String> decided = new HashSet<>();
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            if (!(source instanceof IterableConfigurationPropertySource iterable)) {
                continue;
            }
            Map<String, String> scalars = new LinkedHashMap<>();
            Map<String, TreeMap<Integer, String>> lists = new LinkedHashMap<>();
            // Plain loops, no lambdas: each lambda is a class spun at startup.
            for (ConfigurationPropertyName name : iterable) {
                if (!ROOT.isAncestorOf(name) || OWN.equals(name) || OWN.isAncestorOf(name)) {
                    continue;
                }
                ConfigurationProperty p = source.getConfigurationProperty(name);
                if (p == null) {
                    continue;
                }
                String key = registryKey(name.toString());
                String text = p.getValue() == null ? "" : environment.resolvePlaceholders(String.valueOf(p.getValue()));
                int bracket = key.lastIndexOf('[');
                if (bracket > 0 && key.endsWith("]")) {
                    try {
                        int index = Integer.parseInt(key.substring(bracket + 1, key.length() - 1));
                        String list = key.substring(0, bracket);
                        TreeMap<Integer, String> items = lists.get(list);
                        if (items == null) {
                            items = new TreeMap<>();
                            lists.put(list, items);
                        }
                        items.put(index, text);
                        continue;
                    } catch (NumberFormatException notAnIndex) {
                        // a map key in brackets: kept as is, and the registry names it
                    }
                }
                scalars.putIfAbsent(key, text);
            }
            // Sources come highest precedence first: a key one of them gave is decided.
            for (Map.Entry<String, String> e : scalars.entrySet()) {
                if (decided.add(e.getKey())) {
                    out.put(e.getKey(), e.getValue());
                }
            }
            for (Map.Entry<String, TreeMap<Integer, String>> e : lists.entrySet()) {
                if (decided.add(e.getKey())) {
                    out.put(e.getKey(), String.join(", ", e.getValue().values()));
                }
            }
        }
        for (Map.Entry<String, String> e : out.entrySet()) {
            if (e.getKey().endsWith(".policies")) {
                e.setValue(canonicalPolicies(e.getValue()));
            }
        }
        return out;
    }

    /** A pipeline's {@code kind:name} entries with names in canonical form, as their keys are. */
    private static String canonicalPolicies(String value) {
        List<String> entries = new ArrayList<>();
        for (String entry : value.split(",", -1)) {
            String e = entry.trim();
            int colon = e.indexOf(':');
            if (colon > 0) {
                String kind = KINDS.getOrDefault(uniform(e.substring(0, colon)), e.substring(0, colon).trim());
                String name = e.substring(colon + 1).trim();
                e = kind + ":" + (name.isEmpty() ? name : canonicalName(name));
            } else if (!e.isEmpty()) {
                e = KINDS.getOrDefault(uniform(e), e);
            }
            entries.add(e);
        }
        return String.join(", ", entries);
    }
}
