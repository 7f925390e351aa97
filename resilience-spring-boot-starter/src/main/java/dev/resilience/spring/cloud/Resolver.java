package dev.resilience.spring.cloud;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ConfigurationException;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.core.Retry;
import dev.resilience.core.Timeout;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Chooses the pipeline of a Spring Cloud circuit breaker id (see the package comment) and caches
 * what a factory made of it, so that a {@code create} per call (OpenFeign's) costs two map lookups.
 *
 * @param <B> what the factory makes of a pipeline
 */
final class Resolver<B> {

    private static final List<Class<?>> KINDS = List.of(Pipeline.class, CircuitBreaker.class, Retry.class,
            Timeout.class, RateLimiter.class, Bulkhead.class, AdaptiveLimiter.class);

    private final ResilienceRegistry registry;
    private final Map<String, PipelineConfig> configured;
    private final Function<Pipeline<Object>, B> make;
    private volatile Function<String, PipelineConfig> defaults;
    /** By id, for {@code create(id)}. */
    private final ConcurrentHashMap<String, B> byId = new ConcurrentHashMap<>();
    /** By group, then id, for {@code create(id, group)}. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, B>> byGroup = new ConcurrentHashMap<>();

    /**
     * @param configured the factory's code configuration by id or group (its {@code getConfigurations()})
     * @param make what the factory makes of a pipeline
     */
    Resolver(ResilienceRegistry registry, Map<String, PipelineConfig> configured, Function<Pipeline<Object>, B> make) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.configured = configured;
        this.make = make;
    }

    /** What runs the calls of {@code id} without a group. */
    B get(String id) {
        Objects.requireNonNull(id, "id");
        B b = byId.get(id);
        if (b == null) {
            B made = make.apply(resolve(id, null));
            b = byId.putIfAbsent(id, made);
            if (b == null) {
                b = made;
            }
        }
        return b;
    }

    /** What runs the calls of {@code id} of {@code group} (null: none). */
    B get(String id, String group) {
        Objects.requireNonNull(id, "id");
        if (group == null) {
            return get(id);
        }
        ConcurrentHashMap<String, B> ids = byGroup.get(group);
        if (ids == null) {
            ids = byGroup.computeIfAbsent(group, g -> new ConcurrentHashMap<>());
        }
        B b = ids.get(id);
        if (b == null) {
            B made = make.apply(resolve(id, group));
            b = ids.putIfAbsent(id, made);
            if (b == null) {
                b = made;
            }
        }
        return b;
    }

    /** Replaces the defaults; ids resolved before are resolved again. */
    void setDefaults(Function<String, PipelineConfig> defaults) {
        this.defaults = Objects.requireNonNull(defaults, "defaultConfiguration");
        forget();
    }

    /** Forgets every resolution, after the code configuration changed. */
    void forget() {
        byId.clear();
        byGroup.clear();
    }

    /** The id's own configuration, else the group's, else the defaults. */
    Pipeline<Object> resolve(String id, String group) {
        Pipeline<Object> p = configuredAs(id);
        if (p == null && group != null) {
            p = configuredAs(group);
        }
        return p != null ? p : byDefault(id);
    }

    /** The pipeline configured in code or in properties under {@code name}, or null. */
    private Pipeline<Object> configuredAs(String name) {
        PipelineConfig c = configured.get(name);
        if (c != null) {
            return c.pipeline();
        }
        String configured = configuredName(registry, name);
        return configured == null ? null : registry.pipeline(configured);
    }

    /**
     * The name under which {@code registry} has a configuration for {@code name}: as given (a
     * registry built in code may keep capitals), else in its canonical form (how the environment
     * keeps names: {@code paymentsApi} is {@code paymentsapi}); null if neither is configured.
     */
    static String configuredName(ResilienceRegistry registry, String name) {
        String canonical = EnvironmentConfiguration.canonicalName(name);
        String found = null;
        for (Class<?> kind : KINDS) {
            SortedSet<String> names = registry.configuredNames(kind);
            if (names.contains(name)) {
                return name;
            }
            if (found == null && names.contains(canonical)) {
                found = canonical;
            }
        }
        return found;
    }

    private Pipeline<Object> byDefault(String id) {
        Function<String, PipelineConfig> f = defaults;
        if (f != null) {
            PipelineConfig c = f.apply(id);
            if (c == null) {
                throw new NullPointerException("the default configuration returned null for circuit breaker id '" + id + "'");
            }
            return c.pipeline();
        }
        try {
            return registry.pipeline(id); // resilience.pipeline.default.policies gives every pipeline a shape
        } catch (ConfigurationException e) {
            if (!onlyNoPolicies(e, id)) {
                throw e;
            }
        }
        return Pipeline.builder(id).add(registry.circuitBreaker(id)).build();
    }

    /** Whether {@code e} says only that pipeline {@code id} has no policies (and no default shape). */
    private static boolean onlyNoPolicies(ConfigurationException e, String id) {
        String key = "resilience.pipeline." + id + ".policies";
        for (ConfigurationException.Problem p : e.problems()) {
            if (!p.key().equals(key) || !p.value().isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
