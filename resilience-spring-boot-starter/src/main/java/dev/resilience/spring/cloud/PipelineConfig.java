package dev.resilience.spring.cloud;

import dev.resilience.core.Pipeline;
import dev.resilience.core.ResilienceRegistry;
import java.util.Objects;
import org.springframework.cloud.client.circuitbreaker.ConfigBuilder;

/**
 * What the calls of a Spring Cloud circuit breaker id run through: a {@link Pipeline}. The
 * configuration type of both factories, given in code where properties do not fit:
 *
 * <pre>{@code
 * @Bean
 * Customizer<ResilienceCircuitBreakerFactory> feignIds() {
 *     // Feign's ids are method keys; run both methods through the configured pipeline "payments"
 *     return factory -> factory.configure(b -> b.pipeline("payments"),
 *             "PaymentsClient#pay(String)", "PaymentsClient#refund(String)");
 * }
 * }</pre>
 *
 * <p>Only the pipeline is configured here: its policies' settings are the registry's
 * ({@code resilience.*} properties), or those of a pipeline built in code. Resilience4j's
 * per-id {@code CircuitBreakerConfig}/{@code TimeLimiterConfig} have no counterpart.
 */
// Spring Cloud's (and Spring's) types in this API are the point: the application reads them itself.
@SuppressWarnings("exports")
public final class PipelineConfig {

    private final Pipeline<Object> pipeline;

    private PipelineConfig(Pipeline<Object> pipeline) {
        this.pipeline = pipeline;
    }

    /**
     * A configuration that runs calls through {@code pipeline}, e.g. for
     * {@code configureDefault(id -> PipelineConfig.of(registry.pipeline("shared")))}.
     *
     * @param pipeline the pipeline; it must hold no result-typed state (a pipeline with a
     *     {@code Fallback} serves calls of every result type, so its fallback's value must suit
     *     them all)
     * @return the configuration
     * @throws NullPointerException if {@code pipeline} is null
     */
    public static PipelineConfig of(Pipeline<Object> pipeline) {
        return new PipelineConfig(Objects.requireNonNull(pipeline, "pipeline"));
    }

    /**
     * The pipeline the calls run through.
     *
     * @return the pipeline
     */
    public Pipeline<Object> pipeline() {
        return pipeline;
    }

    @Override
    public String toString() {
        return "PipelineConfig[" + pipeline + "]";
    }

    /**
     * Builds the configuration of one id (or several, configured alike): the factory's
     * {@code configure(consumer, ids...)} hands one to {@code consumer}. Set exactly one of
     * {@link #pipeline(String)} and {@link #pipeline(Pipeline)}.
     */
    public static final class Builder implements ConfigBuilder<PipelineConfig> {
        private final ResilienceRegistry registry;
        private final String id;
        private Pipeline<Object> pipeline;

        Builder(ResilienceRegistry registry, String id) {
            this.registry = registry;
            this.id = id;
        }

        /**
         * Runs the id's calls through the registry's pipeline {@code name} (resolved now: its
         * {@code policies}, or the kinds configured under {@code name}).
         *
         * @param name the pipeline's name
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         * @throws IllegalStateException if the pipeline was already set
         * @throws dev.resilience.core.ConfigurationException if the registry cannot build that pipeline
         */
        public Builder pipeline(String name) {
            Objects.requireNonNull(name, "name");
            checkUnset();
            String configured = Resolver.configuredName(registry, name);
            this.pipeline = registry.pipeline(configured != null ? configured : name);
            return this;
        }

        /**
         * Runs the id's calls through {@code pipeline}, built in code.
         *
         * @param pipeline the pipeline (see {@link PipelineConfig#of(Pipeline)})
         * @return this builder
         * @throws NullPointerException if {@code pipeline} is null
         * @throws IllegalStateException if the pipeline was already set
         */
        public Builder pipeline(Pipeline<Object> pipeline) {
            Objects.requireNonNull(pipeline, "pipeline");
            checkUnset();
            this.pipeline = pipeline;
            return this;
        }

        private void checkUnset() {
            if (pipeline != null) {
                throw new IllegalStateException("the pipeline of circuit breaker id '" + id + "' is already set ("
                        + pipeline.name() + ")");
            }
        }

        /**
         * The configuration.
         *
         * @return the configuration
         * @throws IllegalStateException if no pipeline was set
         */
        @Override
        public PipelineConfig build() {
            if (pipeline == null) {
                throw new IllegalStateException("no pipeline for circuit breaker id '" + id
                        + "': call pipeline(name) or pipeline(Pipeline) in configure(...)");
            }
            return new PipelineConfig(pipeline);
        }
    }
}
