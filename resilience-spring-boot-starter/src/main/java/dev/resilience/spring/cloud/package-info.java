/**
 * Spring Cloud CircuitBreaker over the toolkit: {@link dev.resilience.spring.cloud.ResilienceCircuitBreakerFactory}
 * and {@link dev.resilience.spring.cloud.ReactiveResilienceCircuitBreakerFactory}, so that OpenFeign,
 * Spring Cloud Gateway and HTTP interface clients run their calls through the registry's named
 * instances. The starter defines both factories when spring-cloud-commons is on the class path
 * (unless the application defines its own, or {@code resilience.spring.cloud.enabled=false}).
 *
 * <h2>What an id runs through</h2>
 * A Spring Cloud circuit breaker is created for an id, sometimes with a group (OpenFeign passes the
 * client's name as the group when {@code spring.cloud.openfeign.circuitbreaker.group.enabled=true};
 * HTTP interface clients pass the service group's name as the id; Gateway passes the route's
 * {@code name} argument). The calls of an id run through one {@link dev.resilience.core.Pipeline},
 * chosen once per id and group, the first of:
 * <ol>
 * <li>the id's own configuration: a {@link dev.resilience.spring.cloud.PipelineConfig} given with
 *     {@code configure(builder -> ..., id)}, else, when anything is configured under the id's name
 *     ({@code resilience.pipeline.<id>}, {@code resilience.circuitbreaker.<id>}, {@code resilience.timeout.<id>},
 *     any kind), the registry's pipeline {@code <id>}: its {@code policies}, or else the kinds
 *     configured under that name in the default order. So {@code create("payments")} with
 *     {@code resilience.circuitbreaker.payments.*} and {@code resilience.timeout.payments.*} gives
 *     the breaker named payments around the timeout named payments (a timeout counts as the
 *     breaker's failure), as a Resilience4j user expects of its breaker and time limiter;</li>
 * <li>the group's configuration, found the same way under the group's name: the group's instances,
 *     <em>shared</em> by every id of the group (one breaker for a Feign client: its methods call the
 *     same dependency). Resilience4j gives each id a breaker of its own with the group's settings;
 *     the registry's instances are named, so to give an id its own breaker, configure the id;</li>
 * <li>the defaults: the function given to {@code configureDefault}, else the registry's pipeline
 *     {@code <id>} when {@code resilience.pipeline.default.policies} gives every pipeline a shape,
 *     else the registry's circuit breaker {@code <id>} alone, with the
 *     {@code resilience.circuitbreaker.default.*} settings. Each id then has a breaker of its own,
 *     listed by the endpoint and measured like any other instance.</li>
 * </ol>
 *
 * <h2>Calls</h2>
 * {@code run(toRun, fallback)} calls {@code toRun} through the pipeline under the current context
 * (so its deadline bounds the call and travels downstream); whatever the pipeline throws (the
 * call's exception unchanged, {@code CallNotPermittedException} from an open breaker,
 * {@code TimeoutExceededException}, {@code BulkheadFullException}, ...) goes to {@code fallback},
 * whose result is returned. Without a fallback Spring Cloud throws
 * {@code NoFallbackAvailableException} with the failure as its cause. A {@code Mono} runs through
 * the pipeline's asynchronous path, one subscription per attempt; a {@code Flux} is one call for
 * the whole stream, retried only before its first element (see
 * {@link dev.resilience.spring.cloud.ReactiveResilienceCircuitBreakerFactory}).
 */
package dev.resilience.spring.cloud;
