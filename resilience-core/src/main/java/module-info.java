/**
 * Rate limiter, circuit breaker, retry, bulkhead, adaptive limiter, timeout, hedging, fallback and
 * their composition ({@link dev.resilience.core.Pipeline}).
 */
module dev.resilience.core {
    requires transitive dev.resilience.context;

    exports dev.resilience.core;
}
