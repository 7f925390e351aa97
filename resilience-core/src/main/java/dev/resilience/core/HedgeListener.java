package dev.resilience.core;

/**
 * Receives a {@link Hedge}'s events. Every method defaults to doing nothing and no event object is
 * allocated. Methods run on the thread that launches the attempt (often the timer's): keep them short
 * and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface HedgeListener {

    /** The listener that ignores everything; the default. */
    HedgeListener NOOP = new HedgeListener() {
    };

    /**
     * A hedge was launched because the earlier attempts had not answered within the delay.
     *
     * @param hedge the policy
     * @param attempt the attempt's number: 2 for the first hedge
     */
    default void onHedge(Hedge hedge, int attempt) {
    }
}
