/**
 * Micrometer, OpenTelemetry and SLF4J bindings for the toolkit's listener SPI (issue 6). Its
 * dependencies are declared in the POM; the module reads them once it has code that uses them.
 */
module dev.resilience.observability {
    requires dev.resilience.core;
    requires dev.resilience.pool;
    // API packages are exported as issue 6 adds them.
}
