package dev.resilience.context.internal;

/**
 * The one rule for keeping a later exception beside an earlier one (a callback that threw after the
 * call failed, a second consumer or timer action that threw after the first): the later one is added
 * as suppressed where that adds information and cannot hurt. Internal: exported only to the
 * toolkit's own modules, not part of the API.
 */
public final class Suppression {

    /**
     * The most suppressed exceptions an exception is given: enough for one call's record. Exceptions
     * that user code keeps in a constant and throws again and again would otherwise grow by one entry
     * per failure, without bound.
     */
    public static final int MAX = 4;

    private Suppression() {
    }

    /**
     * Adds {@code later} to {@code kept} as suppressed, except when {@code kept} or {@code later} is
     * null, when they are the same exception ({@link Throwable#addSuppressed} would throw) or
     * {@code later} is {@code kept}'s cause, when {@code kept} holds {@code later} already, and when
     * {@code kept} already holds {@value #MAX} or more (threads failing at once may each add one past
     * the bound: the check and the add are not one step; and an exception that is not shared but
     * arrived holding that many gets nothing either: the rule cannot tell the two apart). Never
     * throws, even when a user exception class's {@code getCause} does, and returns {@code kept}.
     *
     * @param kept the exception that is reported
     * @param later the exception kept for the record
     * @return {@code kept}
     */
    public static <T extends Throwable> T attach(T kept, Throwable later) {
        if (kept == null || later == null || kept == later) {
            return kept;
        }
        try {
            if (kept.getCause() == later) { // overridable: user code
                return kept;
            }
            Throwable[] held = kept.getSuppressed();
            if (held.length >= MAX) {
                return kept;
            }
            for (Throwable t : held) {
                if (t == later) {
                    return kept;
                }
            }
            kept.addSuppressed(later); // neither itself nor null
        } catch (Throwable ignored) {
            // a getCause that throws, or no memory left for the list: the kept exception is what counts
        }
        return kept;
    }

    /**
     * Throws {@code t} as it is, checked or not: for an exception that user code threw past a
     * signature that declares none (Kotlin, or a "sneaky throw"), which the toolkit passes on
     * unchanged after its own clean-up. Declared to return, so that a caller can write
     * {@code throw Suppression.rethrow(t)} and the compiler sees the path end.
     *
     * @param t what to throw, not null
     * @return never returns
     */
    public static RuntimeException rethrow(Throwable t) {
        throw Suppression.<RuntimeException>sneaky(t);
    }

    @SuppressWarnings("unchecked")
    private static <X extends Throwable> X sneaky(Throwable t) throws X {
        throw (X) t;
    }
}
