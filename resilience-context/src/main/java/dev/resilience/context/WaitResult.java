package dev.resilience.context;

/** Why a wait of {@link Context#parkUntil} or {@link Context#waitUntil} returned. */
public enum WaitResult {
    /** The ticker reached the requested time. */
    ELAPSED,
    /**
     * Woken before the time for no reason the wait can tell: another thread's
     * {@link java.util.concurrent.locks.LockSupport#unpark}, or a spurious wake-up. Callers re-check
     * their condition and wait again. {@link Context#waitUntil} never returns this.
     */
    WOKEN,
    /** The context was cancelled. */
    CANCELLED,
    /** The context's deadline passed. */
    DEADLINE_EXCEEDED,
    /** The thread was interrupted; its interrupt status is left set. */
    INTERRUPTED;

    /** True for {@link #CANCELLED} and {@link #DEADLINE_EXCEEDED}. */
    public boolean contextDone() {
        return this == CANCELLED || this == DEADLINE_EXCEEDED;
    }
}
