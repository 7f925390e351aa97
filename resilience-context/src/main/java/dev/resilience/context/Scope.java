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
    /** The scope that was innermost when this one was attached, or null. */
    private final Scope outer;
    private final CancelHandle.InterruptEntry interrupt;
    /** Closed, or unwound by the out-of-order close of a scope outside it. */
    private boolean closed;
    private boolean unwound;

    Scope(Context.Slot slot, Context previous, Scope outer, CancelHandle.InterruptEntry interrupt) {
        this.slot = slot;
        this.previous = previous;
        this.outer = outer;
        this.interrupt = interrupt;
    }

    /**
     * Restores the previously current context.
     *
     * @throws IllegalStateException if scopes were closed out of order or on another thread
     */
    @Override
    public void close() {
        if (closed && !unwound) {
            return;
        }
        Context.Slot s = slot;
        if (s.owner != Thread.currentThread()) {
            throw new IllegalStateException("scope attached on thread " + s.owner.getName()
                    + " closed on thread " + Thread.currentThread().getName());
        }
        if (unwound) {
            unwound = false; // reported once; closing it again is a no-op
            throw new IllegalStateException("scope closed after an enclosing scope was closed out of order;"
                    + " it had already been unwound");
        }
        closed = true;
        if (interrupt != null) {
            interrupt.close();
        }
        if (s.top == this) {
            s.current = previous;
            s.top = outer;
            return;
        }
        // Scopes attached inside this one are still open: unwind them (their interrupts withdrawn,
        // their later close reported), then restore the context from before this one. Identity, not
        // depth, tells them apart: a scope unwound earlier is never mistaken for a newer one.
        Scope found = s.top;
        while (found != null && found != this) {
            found = found.outer;
        }
        if (found == null) { // not open on this thread's stack: nothing to restore (cannot happen through the API)
            throw new IllegalStateException("scope closed but not open on this thread");
        }
        int unwoundCount = 0;
        for (Scope inner = s.top; inner != this; inner = inner.outer) {
            inner.closed = true;
            inner.unwound = true;
            if (inner.interrupt != null) {
                inner.interrupt.close();
            }
            unwoundCount++;
        }
        s.current = previous;
        s.top = outer;
        throw new IllegalStateException("scope closed out of order: " + unwoundCount
                + " scope(s) attached after it were still open and have been unwound");
    }
}
