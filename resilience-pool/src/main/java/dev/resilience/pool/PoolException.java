package dev.resilience.pool;

/**
 * A borrow from an {@link ObjectPool} failed: the allocator failed (the cause), or the borrow timed
 * out ({@link PoolTimeoutException}).
 */
public class PoolException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message and the allocator's exception. */
    public PoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
