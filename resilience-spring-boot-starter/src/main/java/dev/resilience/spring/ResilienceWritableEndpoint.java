package dev.resilience.spring;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code resilience} endpoint with its write operation: {@code POST
 * /actuator/resilience/{name}} with {@code {"state": "FORCED_OPEN"}} forces that breaker open,
 * {@code CLOSED} resets it, {@code DISABLED} lets everything through until reset. Registered instead
 * of {@link ResilienceEndpoint} only with {@code resilience.spring.endpoint.write-enabled=true}; put
 * it behind Spring Security like any write endpoint. Each change is logged with the breaker's name.
 */
@Endpoint(id = "resilience")
public class ResilienceWritableEndpoint extends ResilienceEndpoint {

    private static final System.Logger LOG = System.getLogger(ResilienceWritableEndpoint.class.getName());

    /**
     * A writable endpoint over {@code registry}.
     *
     * @throws NullPointerException if {@code registry} is null
     */
    public ResilienceWritableEndpoint(ResilienceRegistry registry) {
        super(registry);
    }

    /**
     * Forces breaker {@code name} into {@code state}.
     *
     * @param name a circuit breaker the registry has built
     * @param state {@code FORCED_OPEN}, {@code CLOSED} or {@code DISABLED}
     * @return the breaker's state and counts afterwards, or null (404) if there is no such breaker
     * @throws IllegalArgumentException (400) if {@code state} is not one of those
     */
    @WriteOperation
    public Map<String, Object> setState(@Selector String name, String state) {
        CircuitBreaker breaker = registry.instances(CircuitBreaker.class).get(name);
        if (breaker == null) {
            return null;
        }
        String wanted = state == null ? "" : state.trim().toUpperCase(Locale.ROOT);
        switch (wanted) {
            case "FORCED_OPEN", "OPEN" -> breaker.forceOpen();
            case "CLOSED" -> breaker.reset();
            case "DISABLED" -> breaker.disable();
            default -> throw new IllegalArgumentException("state must be FORCED_OPEN, CLOSED or DISABLED");
        }
        LOG.log(System.Logger.Level.WARNING, "circuit breaker ''{0}'' set to {1} through the resilience endpoint",
                name, wanted);
        return breaker(breaker);
    }
}
