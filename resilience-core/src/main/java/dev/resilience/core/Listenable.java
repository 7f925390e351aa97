package dev.resilience.core;

import dev.resilience.context.Registration;

/**
 * A primitive whose events any number of listeners hear: those given to its builder (each
 * {@code listener(...)} call adds one) and those added later, as a metrics binder does. Every
 * listener hears every event, in the order added; what one throws is logged through
 * {@link System.Logger} and changes nothing (no outcome, state, permit, or other listener).
 *
 * @param <L> the listener interface
 */
public interface Listenable<L> {

    /**
     * Adds a listener beside the others; an event already under way may miss it.
     *
     * @param listener the listener
     * @return removes the listener again ({@link Registration#remove()} is true the first time)
     * @throws NullPointerException if {@code listener} is null
     */
    Registration addListener(L listener);
}
