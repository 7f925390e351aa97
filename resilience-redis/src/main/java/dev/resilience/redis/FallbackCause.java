package dev.resilience.redis;

/** Why a distributed limiter decided without Redis. */
public enum FallbackCause {
    /** The backend's circuit breaker is open (or its half-open probes are taken): Redis was not asked. */
    BREAKER_OPEN,
    /** Redis did not answer within the backend's timeout. */
    TIMEOUT,
    /** The call failed: not connected, connection lost, or an error reply about the server (LOADING, BUSY, OOM, ...). */
    REDIS_ERROR,
    /**
     * Redis answered with an error about this key's data (e.g. WRONGTYPE: something else wrote the
     * key): only this key is decided by the failure mode; the backend's breaker does not count it.
     */
    KEY_ERROR
}
