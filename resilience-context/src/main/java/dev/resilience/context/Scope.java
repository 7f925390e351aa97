package dev.resilience.context;

/**
 * The attachment of a {@link Context} to the current thread; closing it restores the context that
 * was current before. Use it in try-with-resources.
 *
 * <p>Misuse is detected, reported with an {@link IllegalStateException}, and never silently
 * corrupts the thread's state: closing a scope while scopes attached after it are still open
 * unwinds those too (restoring the context from before this scope) and throws; closing one of
 * those unwound scopes later throws; closing a scope on a thread other than the one it was attached
 * on throws and changes nothing. Closing a scope twice is a no-op.
 */
public final class Scope implements AutoCloseable {

    private final Context.Slot slot;
    private final Context previous;
    private final int depth;
    private final CancelHandle.InterruptEntry interrupt;
    private boolean closed;

    Scope(Context.Slot slot, Context previous, int depth, CancelHandle.InterruptEntry interrupt) {
        this.slot = slot;
        this.previous = previous;
        this.depth = depth;
        this.interrupt = interrupt;
    }

    /**
     * Restores the previously current context.
     *
     * @throws IllegalStateException if scopes were closed out of order or on another thread
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        Context.Slot s = slot;
        if (s.owner != Thread.currentThread()) {
            throw new IllegalStateException("scope attached on thread " + s.owner.getName()
                    + " closed on thread " + Thread.currentThread().getName());
        }
        closed = true;
        if (interrupt != null) {
            interrupt.close();
        }
        int current = s.depth;
        if (current == depth) {
            s.current = previous;
            s.depth = depth - 1;
            return;
        }
        if (current > depth) {
            s.current = previous;
            s.depth = depth - 1;
            throw new IllegalStateException("scope closed out of order: " + (current - depth)
                    + " scope(s) attached after it were still open and have been unwound");
        }
        throw new IllegalStateException("scope closed after an enclosing scope was closed out of order;"
                + " it had already been unwound");
    }
}
