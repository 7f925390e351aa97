package dev.resilience.core;

/**
 * A {@link Bulkhead} had no free slot for the whole allowed wait. A
 * {@link RequestNotPermittedException} with reason {@link Reason#BULKHEAD_FULL}, of its own type so
 * that a bulkhead's refusal can be told from a rate limiter's by type alone.
 */
public final class BulkheadFullException extends RequestNotPermittedException {
    private static final long serialVersionUID = 1L;

    /**
     * @param bulkhead the name of the bulkhead
     * @param message details
     */
    public BulkheadFullException(String bulkhead, String message) {
        super(bulkhead, Reason.BULKHEAD_FULL, message);
    }
}
