package dev.resilience.spring.internal;

/**
 * Attaching a call's original failure to what its fallback threw, without letting an exception
 * that user code shares between calls (a constant) grow by one entry per failure.
 */
public final class Suppression {

    /**
     * The most suppressed exceptions a fallback's exception is given: enough for one call's record;
     * a shared exception that has this many already gets no more.
     */
    static final int MAX = 4;

    private Suppression() {
    }

    /**
     * Adds {@code failure} to {@code thrown} as suppressed where that adds information: not when it
     * is {@code thrown} itself or its cause, not when {@code thrown} holds it already, and not when
     * {@code thrown} already holds {@value #MAX} or more suppressed exceptions (an exception kept in
     * a constant soon does: it keeps the first calls' failures, and later calls add nothing; threads
     * failing at once may each add one past the bound). Returns {@code thrown}.
     *
     * @param thrown what the fallback threw
     * @param failure the call's original failure
     * @return {@code thrown}
     */
    public static Throwable attach(Throwable thrown, Throwable failure) {
        if (failure == null || thrown == failure || thrown.getCause() == failure) {
            return thrown;
        }
        Throwable[] held = thrown.getSuppressed();
        if (held.length >= MAX) {
            return thrown;
        }
        for (Throwable t : held) {
            if (t == failure) {
                return thrown;
            }
        }
        thrown.addSuppressed(failure); // cannot throw: neither itself nor null
        return thrown;
    }
}
