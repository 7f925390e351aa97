package dev.resilience.spring;

import dev.resilience.core.ConfigurationException;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Reloads the registry from the environment: when Spring Cloud reports a changed environment
 * ({@code EnvironmentChangeEvent}, after a {@code /actuator/refresh} or a config-server push), and
 * when an operator sets a value through the {@code resilience} endpoint's write operation. What the
 * live instances can take is applied (a rate limiter's rate and burst, a bulkhead's size, a circuit
 * breaker's thresholds, open duration and half-open probes); the rest is logged as needing a
 * restart. A configuration with problems changes nothing and is logged with every problem.
 */
public final class ResilienceReloader implements ApplicationListener<ApplicationEvent> {

    /** The property source that holds the endpoint's overrides, first in the environment. */
    public static final String OVERRIDES = "resilienceEndpointOverrides";

    private static final String ENVIRONMENT_CHANGE_EVENT = "org.springframework.cloud.context.environment.EnvironmentChangeEvent";
    /** Created on first use: the JDK's logger lookup is not worth loading at startup for a message that may never come. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger(ResilienceReloader.class.getName());
    }

    private final ResilienceRegistry registry;
    private final ConfigurableEnvironment environment;
    private final ReentrantLock lock = new ReentrantLock();

    /**
     * Reloads {@code registry} from {@code environment}; the starter defines one as a bean.
     *
     * @throws NullPointerException if either is null
     */
    public ResilienceReloader(ResilienceRegistry registry, ConfigurableEnvironment environment) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.environment = Objects.requireNonNull(environment, "environment");
    }

    /** Reloads on Spring Cloud's {@code EnvironmentChangeEvent}; other events are ignored. */
    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        if (event.getClass().getName().equals(ENVIRONMENT_CHANGE_EVENT)) {
            try {
                reload();
            } catch (ConfigurationException e) {
                Log.LOG.log(System.Logger.Level.ERROR, "the changed resilience configuration was not applied: " + e.getMessage());
            }
        }
    }

    /**
     * Reloads from the environment as it is now.
     *
     * @return what was applied and what needs a restart
     * @throws ConfigurationException with every problem; nothing changed
     */
    public ResilienceRegistry.ReloadResult reload() {
        lock.lock();
        try {
            ResilienceRegistry.ReloadResult result = registry.reload(EnvironmentConfiguration.of(environment));
            if (!result.applied().isEmpty()) {
                Log.LOG.log(System.Logger.Level.INFO, "resilience configuration reloaded; applied: " + result.applied());
            }
            if (!result.needsRestart().isEmpty()) {
                Log.LOG.log(System.Logger.Level.WARNING, "resilience settings that live instances cannot take, kept until"
                        + " a restart: " + result.needsRestart());
            }
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sets {@code key} to {@code value} (null removes the override) above every other property
     * source, and reloads; if the result has problems, the override is taken back. Any spelling Spring
     * binds ({@code rateLimiter}, {@code rate-limiter}) names the same override: it is kept under
     * its canonical name, so a later write or removal in another spelling replaces it.
     *
     * @throws IllegalArgumentException if {@code key} is not a {@code resilience.<kind>...} key
     * @throws ConfigurationException with every problem; nothing changed
     */
    public ResilienceRegistry.ReloadResult override(String key, String value) {
        Objects.requireNonNull(key, "key");
        if (!EnvironmentConfiguration.isRegistryKey(key)) {
            throw new IllegalArgumentException("key must be a resilience.<kind>.<name>.<property> key: " + key);
        }
        lock.lock();
        try {
            MapPropertySource source = (MapPropertySource) environment.getPropertySources().get(OVERRIDES);
            Map<String, Object> before = source == null ? Map.of() : new LinkedHashMap<>(source.getSource());
            Map<String, Object> after = new LinkedHashMap<>(before);
            // One entry per property, under its canonical name: another spelling of the same key
            // (rateLimiter, rate-limiter, ratelimiter) replaces or removes it, never sits beside it
            // (the environment's reading keeps the first spelling it meets and would ignore the newer).
            ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
            after.keySet().removeIf(k -> ConfigurationPropertyName.adapt(k, '.').equals(name));
            if (value != null) {
                after.put(name.toString(), value);
            }
            environment.getPropertySources().remove(OVERRIDES);
            environment.getPropertySources().addFirst(new MapPropertySource(OVERRIDES, after));
            try {
                return reload();
            } catch (ConfigurationException e) {
                environment.getPropertySources().remove(OVERRIDES);
                if (!before.isEmpty()) {
                    environment.getPropertySources().addFirst(new MapPropertySource(OVERRIDES, before));
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }
}
