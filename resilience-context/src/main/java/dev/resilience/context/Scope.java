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
    /** What the slot held before this scope: null for the background context (see the slot). */
    private final Context previous;
    private final int depth;
    /** This attach's number: the slot keeps it at {@link #depth} while this scope is open. */
    private final long id;
    /** The number of the scope that was innermost when this one was attached (0 if none). */
    private final long parent;
    /** Attached interruptibly: only then is there a registration at {@link #depth} to withdraw. */
    private final boolean interruptible;
    private boolean closed;

    Scope(Context.Slot slot, Context previous, int depth, long id, long parent, boolean interruptible) {
        this.slot = slot;
        this.previous = previous;
        this.depth = depth;
        this.id = id;
        this.parent = parent;
        this.interruptible = interruptible;
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
        if (s.top != id) {
            throw closeOutOfOrder(s);
        }
        restore(s);
    }

    /** Makes the context from before this scope current again, one level up. */
    private void restore(Context.Slot s) {
        if (interruptible) {
            withdrawOwnInterrupt(s);
        }
        s.current = previous;
        s.top = parent;
        s.depth = depth - 1;
    }

    /** Withdraws this scope's interrupt registration (and clears its level), if it is still there. */
    private void withdrawOwnInterrupt(Context.Slot s) {
        CancelHandle.InterruptEntry interrupt = s.interrupts[depth]; // this scope's own, as the number says
        if (interrupt != null) {
            interrupt.close();
            s.interrupts[depth] = null;
        }
    }

    /**
     * Not the innermost open scope: unwound earlier, or closed while scopes inside it are open.
     * Restores and unwinds what is left to do, and returns the exception that reports it.
     */
    private IllegalStateException closeOutOfOrder(Context.Slot s) {
        int current = s.depth;
        if (depth > current || s.ids[depth] != id) {
            // Unwound by an out-of-order close outside it (its interrupt withdrawn then); a newer
            // scope may sit at its depth now, which the number tells apart. Nothing to restore.
            return new IllegalStateException("scope closed after an enclosing scope was closed out of order;"
                    + " it had already been unwound");
        }
        restore(s);
        // Scopes attached inside this one are still open: unwind them (their interrupts withdrawn;
        // their later close is reported).
        for (int d = depth + 1; d <= current; d++) {
            CancelHandle.InterruptEntry inner = s.interrupts[d];
            if (inner != null) {
                s.interrupts[d] = null;
                inner.close();
            }
            s.ids[d] = 0;
        }
        return new IllegalStateException("scope closed out of order: " + (current - depth)
                + " scope(s) attached after it were still open and have been unwound");
    }
}
