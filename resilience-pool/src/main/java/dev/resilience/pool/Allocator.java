package dev.resilience.pool;

/**
 * Creates, checks and destroys the objects of an {@link ObjectPool}. The pool calls
 * {@link #allocate()} and {@link #deallocate(Object)} on its background thread, so borrowers rarely
 * wait for them; {@link #validate(Object)} runs where validation is configured (on borrow, on the
 * borrowing thread; periodically, on the background thread).
 *
 * <pre>{@code
 * Allocator<Connection> connections = new Allocator<>() {
 *     public Connection allocate() throws Exception { return driver.connect(url); }
 *     public void deallocate(Connection c) throws Exception { c.close(); }
 *     public boolean validate(Connection c) throws Exception { return c.isValid(1); }
 * };
 * }</pre>
 *
 * @param <T> the type of the pooled objects
 */
public interface Allocator<T> {

    /**
     * A new object; never null. An exception is handed to one borrower as the cause of a
     * {@link PoolException}, and the pool tries again later.
     */
    T allocate() throws Exception;

    /** Releases what {@code object} holds; called once per allocated object. Exceptions are reported, not thrown. */
    void deallocate(T object) throws Exception;

    /** Whether {@code object} is still usable; false or an exception destroys it. Default: true. */
    default boolean validate(T object) throws Exception {
        return true;
    }
}
