/**
 * Rate limiter, circuit breaker, retry, bulkhead, timeout, hedging, fallback, their composition
 * ({@link dev.resilience.core.Pipeline}) and {@link dev.resilience.core.ResilientHttpClient}.
 */
module dev.resilience.core {
    requires transitive dev.resilience.context;

    exports dev.resilience.core;
}
