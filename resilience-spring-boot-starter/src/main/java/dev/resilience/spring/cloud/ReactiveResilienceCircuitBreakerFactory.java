package dev.resilience.spring.cloud;

import dev.resilience.core.ResilienceRegistry;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreaker;
import org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreakerFactory;

/**
 * Spring Cloud's {@link ReactiveCircuitBreakerFactory} over a {@link ResilienceRegistry}: the
 * circuit breakers Spring Cloud Gateway (server WebFlux), reactive OpenFeign and {@code WebClient}
 * HTTP interface clients use. An id runs through the same pipeline as with
 * {@link ResilienceCircuitBreakerFactory} (see the package comment).
 *
 * <pre>{@code
 * Mono<Receipt> receipt = factory.create("payments").run(webClient.get().uri("/pay").retrieve().bodyToMono(Receipt.class),
 *         failure -> Mono.just(Receipt.queued()));
 * }</pre>
 *
 * <p><b>Mono.</b> Each subscription is one call of the pipeline's asynchronous path; each attempt
 * subscribes to the {@code Mono} again (a retry re-sends a {@code WebClient} request), with the
 * subscriber's Reactor context. When the subscriber cancels, the call's context is cancelled: a
 * retry's backoff and a limiter's wait stop, and the attempt in flight is cancelled, so every
 * permit and slot comes back without counting an outcome. An attempt that outlives its timeout is
 * cancelled when the call ends (a retry after a timeout runs beside it until then), not at the
 * timeout itself: the timeout's own outcome reaches the policies around it first.
 *
 * <p><b>Flux.</b> Each subscription is one call, and its elements reach the subscriber as they
 * come (with its demand): subscribing takes the permits, completion is a success, an error a
 * failure, and a timeout bounds the whole stream. The retry subscribes to the {@code Flux} again only
 * while no element has reached the subscriber: after one, a failure ends the stream unretried, so no
 * element is delivered twice (the annotations' {@code Flux} path does the same). A hedge is left out
 * (logged once at INFO): two attempts at once would interleave their elements. When the subscriber
 * cancels, the source is cancelled and the call ends as a success if an element was delivered
 * ({@code take(n)} cancels a healthy stream), else without an outcome, and nothing is retried. A
 * failure after some elements goes to the fallback, whose elements follow them (Reactor's
 * {@code onErrorResume}).
 *
 * <p><b>Gateway.</b> Spring Cloud Gateway (server WebFlux) registers its {@code CircuitBreaker} route
 * filter only over Resilience4j's factory; with this one, declare the filter yourself: a bean
 * extending Gateway's {@code SpringCloudCircuitBreakerFilterFactory}, constructed with this factory,
 * whose {@code handleErrorWithoutFallback} maps {@code CallNotPermittedException} and
 * {@code TimeoutExceededException} to the statuses you want (503, 504).
 *
 * <p><b>Fallbacks.</b> A fallback receives the failure (e.g. {@code CallNotPermittedException});
 * if it throws, or returns null instead of a publisher, the result fails with that exception (a
 * {@code NullPointerException} for null) with the failure added as suppressed.
 */
// Spring Cloud's (and Spring's) types in this API are the point: the application reads them itself.
@SuppressWarnings("exports")
public class ReactiveResilienceCircuitBreakerFactory
        extends ReactiveCircuitBreakerFactory<PipelineConfig, PipelineConfig.Builder> {

    private final ResilienceRegistry registry;
    private final Resolver<ReactiveCircuitBreaker> breakers;

    /**
     * A factory of {@code registry}'s instances.
     *
     * @param registry the registry
     * @throws NullPointerException if {@code registry} is null
     */
    public ReactiveResilienceCircuitBreakerFactory(ResilienceRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.breakers = new Resolver<>(registry, getConfigurations(), PipelineReactiveCircuitBreaker::new);
    }

    /**
     * The circuit breaker of {@code id}: its own configuration, else the defaults.
     *
     * @param id the id (a route's name, an HTTP service group, a Feign method key)
     * @return the circuit breaker, shared by every caller of the id
     * @throws NullPointerException if {@code id} is null
     * @throws dev.resilience.core.ConfigurationException if the registry cannot build its instances
     */
    @Override
    public ReactiveCircuitBreaker create(String id) {
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
    public ReactiveCircuitBreaker create(String id, String groupName) {
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
        return "ReactiveResilienceCircuitBreakerFactory[" + registry + "]";
    }
}
