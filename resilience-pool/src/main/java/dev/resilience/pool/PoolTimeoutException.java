package dev.resilience.pool;

/** No object of an {@link ObjectPool} became available within the borrow timeout. */
public class PoolTimeoutException extends PoolException {

    private static final long serialVersionUID = 1L;

    /** With a message. */
    public PoolTimeoutException(String message) {
        super(message, null);
    }
}
