/**
 * Micrometer, OpenTelemetry and SLF4J bindings for the toolkit's listener SPI: see
 * {@link dev.resilience.observability.ResilienceTelemetry}.
 */
module dev.resilience.observability {
    requires transitive dev.resilience.core;
    requires transitive dev.resilience.pool;
    requires transitive micrometer.core;
    requires transitive io.opentelemetry.api;
    requires transitive io.opentelemetry.context;
    requires org.slf4j;
    requires static transitive dev.resilience.redis;
    requires transitive context.propagation;

    provides io.micrometer.context.ThreadLocalAccessor with dev.resilience.observability.ResilienceContextAccessor;

    exports dev.resilience.observability;
}
