package dev.resilience.spring;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code resilience} endpoint with its write operations. {@code POST
 * /actuator/resilience/{name}} with {@code {"state": "FORCED_OPEN"}} forces that breaker open,
 * {@code CLOSED} resets it, {@code DISABLED} lets everything through until reset. {@code POST
 * /actuator/resilience} with {@code {"key": "resilience.ratelimiter.api.rate", "value": "100/s"}}
 * overrides one setting (a null value removes the override) and reloads the registry: a rate
 * limiter's rate and burst, a bulkhead's size and a circuit breaker's thresholds, open duration and
 * half-open probes change at once, other changes are listed as needing a restart, and a value with
 * a problem changes nothing (400, with every problem). Registered instead of
 * {@link ResilienceEndpoint} only with {@code resilience.spring.endpoint.write-enabled=true}; put it
 * behind Spring Security like any write endpoint. Each change is logged.
 */
@Endpoint(id = "resilience")
public class ResilienceWritableEndpoint extends ResilienceEndpoint {

    private static final System.Logger LOG = System.getLogger(ResilienceWritableEndpoint.class.getName());

    private final ResilienceReloader reloader;

    /**
     * A writable endpoint over {@code registry}, reloading it through {@code reloader}.
     *
     * @throws NullPointerException if either is null
     */
    public ResilienceWritableEndpoint(ResilienceRegistry registry, ResilienceReloader reloader) {
        super(registry);
        this.reloader = Objects.requireNonNull(reloader, "reloader");
    }

    /**
     * Overrides one setting and reloads (see the class comment).
     *
     * @param key a {@code resilience.<kind>.<name>.<property>} key
     * @param value its new value, or null to remove the override
     * @return the keys applied to live instances and those that need a restart
     * @throws InvalidEndpointRequestException (400) if the key is not a resilience key or the value has a problem
     */
    @WriteOperation
    public Map<String, Object> reload(String key, @Nullable String value) {
        try {
            ResilienceRegistry.ReloadResult result = reloader.override(key, value);
            LOG.log(System.Logger.Level.WARNING, "{0} set to {1} through the resilience endpoint", key, value);
            return Map.of("applied", result.applied(), "needsRestart", result.needsRestart());
        } catch (IllegalArgumentException e) { // ConfigurationException too
            throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
        }
    }

    /**
     * Forces breaker {@code name} into {@code state}.
     *
     * @param name a circuit breaker the registry has built
     * @param state {@code FORCED_OPEN}, {@code CLOSED} or {@code DISABLED}
     * @return the breaker's state and counts afterwards
     * @throws InvalidEndpointRequestException (400) if {@code state} is not one of those, or the
     *     registry has no breaker {@code name}
     */
    @WriteOperation
    public Map<String, Object> setState(@Selector String name, String state) {
        CircuitBreaker breaker = ResilienceEndpoint.breakerNamed(registry, name);
        if (breaker == null) {
            throw new InvalidEndpointRequestException("no circuit breaker named '" + name + "'", "no such circuit breaker");
        }
        String wanted = state == null ? "" : state.trim().toUpperCase(Locale.ROOT);
        switch (wanted) {
            case "FORCED_OPEN", "OPEN" -> breaker.forceOpen();
            case "CLOSED" -> breaker.reset();
            case "DISABLED" -> breaker.disable();
            default -> throw new InvalidEndpointRequestException("state must be FORCED_OPEN, CLOSED or DISABLED: " + state,
                    "state must be FORCED_OPEN, CLOSED or DISABLED");
        }
        LOG.log(System.Logger.Level.WARNING, "circuit breaker ''{0}'' set to {1} through the resilience endpoint",
                name, wanted);
        return breaker(breaker);
    }
}
