package dev.resilience.spring.cloud;

import dev.resilience.core.ResilienceRegistry;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.springframework.cloud.client.circuitbreaker.CircuitBreaker;
import org.springframework.cloud.client.circuitbreaker.CircuitBreakerFactory;

/**
 * Spring Cloud's blocking {@link CircuitBreakerFactory} over a {@link ResilienceRegistry}: the
 * circuit breakers OpenFeign, Spring Cloud Gateway (server MVC) and {@code RestClient} HTTP
 * interface clients use. The starter defines one when spring-cloud-commons is present; see the
 * package comment for which pipeline an id runs through.
 *
 * <pre>
 * resilience.circuitbreaker.payments.consecutive-failures=5
 * resilience.circuitbreaker.payments.open-duration=30s
 * resilience.timeout.payments.timeout=2s
 * </pre>
 *
 * <pre>{@code
 * String receipt = factory.create("payments").run(() -> client.pay(order), failure -> "queued");
 * }</pre>
 *
 * <p>{@code create} is cheap after the first call for an id (and group): the breaker is chosen once
 * and cached, and the returned object is shared and immutable. {@link #configure} and
 * {@link #configureDefault} apply to ids created after them (each forgets the choices made so far).
 */
// Spring Cloud's (and Spring's) types in this API are the point: the application reads them itself.
@SuppressWarnings("exports")
public class ResilienceCircuitBreakerFactory extends CircuitBreakerFactory<PipelineConfig, PipelineConfig.Builder> {

    private final ResilienceRegistry registry;
    private final Resolver<CircuitBreaker> breakers;

    /**
     * A factory of {@code registry}'s instances.
     *
     * @param registry the registry
     * @throws NullPointerException if {@code registry} is null
     */
    public ResilienceCircuitBreakerFactory(ResilienceRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.breakers = new Resolver<>(registry, getConfigurations(), PipelineCircuitBreaker::new);
    }

    /**
     * The circuit breaker of {@code id}: its own configuration, else the defaults.
     *
     * @param id the id (a Feign method key, an HTTP service group, a route's name)
     * @return the circuit breaker, shared by every caller of the id
     * @throws NullPointerException if {@code id} is null
     * @throws dev.resilience.core.ConfigurationException if the registry cannot build its instances
     */
    @Override
    public CircuitBreaker create(String id) {
        return breakers.get(id);
    }

    /**
     * The circuit breaker of {@code id} in {@code groupName}: the id's own configuration, else the
     * group's (whose instances the group's ids share), else the defaults.
     *
     * @param id the id
     * @param groupName the group, or null for none
     * @return the circuit breaker, shared by every caller of the id and group
     * @throws NullPointerException if {@code id} is null
     * @throws dev.resilience.core.ConfigurationException if the registry cannot build its instances
     */
    @Override
    public CircuitBreaker create(String id, String groupName) {
        return breakers.get(id, groupName);
    }

    /**
     * Configures {@code ids} (ids or groups) in code: {@code consumer} sets the pipeline on a
     * {@link PipelineConfig.Builder}. Code configuration of a name comes before its properties.
     *
     * @param consumer sets the pipeline
     * @param ids the ids or groups
     * @throws IllegalStateException if {@code consumer} sets no pipeline, or two
     * @throws dev.resilience.core.ConfigurationException if the named pipeline cannot be built
     */
    @Override
    public void configure(Consumer<PipelineConfig.Builder> consumer, String... ids) {
        super.configure(consumer, ids);
        breakers.forget();
    }

    /**
     * The configuration of ids that have none of their own nor of their group, instead of the
     * registry's breaker named like the id.
     *
     * @param defaultConfiguration the configuration of an id; must not return null
     * @throws NullPointerException if {@code defaultConfiguration} is null
     */
    @Override
    public void configureDefault(Function<String, PipelineConfig> defaultConfiguration) {
        breakers.setDefaults(defaultConfiguration);
    }

    /**
     * A builder of the configuration of {@code id}, for {@link #configure}.
     *
     * @param id the id or group
     * @return the builder
     */
    @Override
    protected PipelineConfig.Builder configBuilder(String id) {
        return new PipelineConfig.Builder(registry, id);
    }

    @Override
    public String toString() {
        return "ResilienceCircuitBreakerFactory[" + registry + "]";
    }
}
