/** Rate limiter, circuit breaker, retry, bulkhead, timeout and their composition (issues 3 and 4). */
module dev.resilience.core {
    requires transitive dev.resilience.context;

    exports dev.resilience.core;
}
