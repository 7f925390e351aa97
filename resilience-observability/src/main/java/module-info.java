/** Micrometer, OpenTelemetry and SLF4J bindings for the toolkit's listener SPI (issue 6). */
module dev.resilience.observability {
    requires dev.resilience.core;
    requires dev.resilience.pool;
    requires static micrometer.core;
    requires static io.opentelemetry.api;
    requires static org.slf4j;

    // API packages are exported as issue 6 adds them.
}
