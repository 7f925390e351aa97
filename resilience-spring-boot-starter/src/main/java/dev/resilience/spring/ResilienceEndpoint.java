package dev.resilience.spring;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.core.Retry;
import dev.resilience.core.Timeout;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code resilience} Actuator endpoint: every instance the registry has built, with its state
 * (a breaker's state and counts, a rate limiter's tokens, a bulkhead's slots in use, an adaptive
 * limiter's limit, a pipeline's policies). It shows names and numbers only, never request data.
 * Expose it like any endpoint ({@code management.endpoints.web.exposure.include=resilience}); the
 * operation that changes a breaker's state is in {@link ResilienceWritableEndpoint}, registered only
 * with {@code resilience.spring.endpoint.write-enabled=true}.
 */
@Endpoint(id = "resilience")
public class ResilienceEndpoint {

    /** The registry whose instances are shown. */
    protected final ResilienceRegistry registry;

    /**
     * An endpoint over {@code registry}.
     *
     * @throws NullPointerException if {@code registry} is null
     */
    public ResilienceEndpoint(ResilienceRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** @return every instance built so far, by kind and name, with its state */
    @ReadOperation
    public Map<String, Object> instances() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("circuitBreakers", map(registry.instances(CircuitBreaker.class), ResilienceEndpoint::breaker));
        out.put("throttles", map(registry.instances(AdaptiveThrottle.class), t -> {
            AdaptiveThrottle.Stats st = t.stats();
            return Map.of("dropRatio", st.dropRatio(), "requests", st.requests(), "accepts", st.accepts(),
                    "failures", st.failures());
        }));
        out.put("rateLimiters", map(registry.instances(RateLimiter.class), l -> Map.of(
                "rate", l.rate(), "burst", l.burst(), "tokens", l.tokens())));
        out.put("bulkheads", map(registry.instances(Bulkhead.class), b -> Map.of(
                "maxConcurrent", b.maxConcurrent(), "inUse", b.inUse(), "waiting", b.waiting())));
        out.put("adaptiveLimiters", map(registry.instances(AdaptiveLimiter.class), l -> Map.of(
                "limit", l.limit(), "inFlight", l.inFlight())));
        out.put("retries", map(registry.instances(Retry.class), r -> Map.of()));
        out.put("timeouts", map(registry.instances(Timeout.class), t -> Map.of("timeout", t.timeout().toString())));
        @SuppressWarnings("rawtypes") // the registry's pipelines serve every result type
        Map<String, Pipeline> pipelines = registry.instances(Pipeline.class);
        out.put("pipelines", map(pipelines, p -> Map.of("kinds", p.kinds().toString(), "policies", p.policyNames())));
        return out;
    }

    /**
     * @param name a circuit breaker's name
     * @return that breaker's state and counts, or null (404) if the registry has not built it
     */
    @ReadOperation
    public Map<String, Object> circuitBreaker(@Selector String name) {
        CircuitBreaker breaker = breakerNamed(registry, name);
        return breaker == null ? null : breaker(breaker);
    }

    /**
     * The breaker under {@code name} as given (one built in code under any spelling), else under its
     * canonical form (one configured in properties: {@code paymentsApi} is {@code paymentsapi}); null if none.
     */
    static CircuitBreaker breakerNamed(ResilienceRegistry registry, String name) {
        Map<String, CircuitBreaker> built = registry.instances(CircuitBreaker.class);
        CircuitBreaker exact = built.get(name);
        return exact != null ? exact : built.get(EnvironmentConfiguration.canonicalName(name));
    }

    static Map<String, Object> breaker(CircuitBreaker b) {
        CircuitBreaker.Counts c = b.counts();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("state", b.state().name());
        out.put("requests", c.requests());
        out.put("successes", c.totalSuccesses());
        out.put("failures", c.totalFailures());
        out.put("exclusions", c.totalExclusions());
        out.put("consecutiveFailures", c.consecutiveFailures());
        return out;
    }

    private static <T> Map<String, Object> map(Map<String, T> instances, java.util.function.Function<T, Object> state) {
        Map<String, Object> out = new LinkedHashMap<>();
        instances.forEach((name, instance) -> out.put(name, state.apply(instance)));
        return out;
    }
}
