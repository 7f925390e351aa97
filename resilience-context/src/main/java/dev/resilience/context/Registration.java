package dev.resilience.context;

/**
 * A callback registered with {@link Context#onDone(Runnable)}; Go's {@code stop} function of
 * {@code context.AfterFunc}.
 */
@FunctionalInterface
public interface Registration {

    /**
     * Withdraws the callback.
     *
     * @return true if the callback had not started and now never will; false if it already ran, is
     *     running, or was already withdrawn
     */
    boolean remove();
}
