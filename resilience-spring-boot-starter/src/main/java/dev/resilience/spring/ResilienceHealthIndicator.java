package dev.resilience.spring;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import java.util.Objects;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code resilience} health indicator: every circuit breaker the registry has built, with its
 * state. UP unless {@code resilience.spring.health.open-is-down=true} and a breaker is open (or
 * forced open): an open breaker says a dependency is failing, which is rarely a reason to take this
 * service out of rotation.
 */
public class ResilienceHealthIndicator extends AbstractHealthIndicator {

    private final ResilienceRegistry registry;
    private final boolean openIsDown;

    /**
     * An indicator over {@code registry}'s breakers.
     *
     * @param registry the registry
     * @param openIsDown whether an open breaker makes it DOWN
     * @throws NullPointerException if {@code registry} is null
     */
    public ResilienceHealthIndicator(ResilienceRegistry registry, boolean openIsDown) {
        super("resilience health check failed");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.openIsDown = openIsDown;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        boolean open = false;
        for (var e : registry.instances(CircuitBreaker.class).entrySet()) {
            CircuitBreaker.State state = e.getValue().state();
            open |= state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN;
            builder.withDetail(e.getKey(), state.name());
        }
        if (open && openIsDown) {
            builder.down();
        } else {
            builder.up();
        }
    }
}
