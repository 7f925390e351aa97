package dev.resilience.pool;

/**
 * A borrowed object of an {@link ObjectPool}, returned by {@link #close()} (so
 * {@code try-with-resources} returns it) or destroyed by {@link #invalidate()}.
 *
 * <pre>{@code
 * try (Lease<Connection> lease = pool.borrow()) {
 *     lease.get().execute(sql);
 * }
 * }</pre>
 *
 * <p>A lease is ended exactly once, by {@code close} or {@code invalidate}; ending it again, or
 * calling {@link #get()} after, throws {@link IllegalStateException} as long as the object has not
 * been borrowed again in the meantime. The one exception: {@code close()} after {@code invalidate()}
 * does nothing, so a lease can be invalidated inside its {@code try}-with-resources block. Leases are recycled by the pool (borrowing allocates nothing),
 * so a lease must not be kept after it is ended.
 *
 * @param <T> the type of the pooled object
 */
public interface Lease<T> extends AutoCloseable {

    /** The borrowed object. */
    T get();

    /** Returns the object to the pool. */
    @Override
    void close();

    /** Ends the lease and destroys the object instead of returning it (e.g. after an I/O error). */
    void invalidate();
}
