package dev.resilience.redis;

/** Why a distributed limiter decided without Redis. */
public enum FallbackCause {
    /** The backend's circuit breaker is open (or its half-open probes are taken): Redis was not asked. */
    BREAKER_OPEN,
    /** Redis did not answer within the backend's timeout. */
    TIMEOUT,
    /** The call failed: not connected, connection lost, or an error reply. */
    REDIS_ERROR
}
