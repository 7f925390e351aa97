package dev.resilience.core;

import dev.resilience.context.internal.Suppression;
import java.util.function.Predicate;

/**
 * Calls into user predicates and functions on the failure path, where what they throw must not
 * replace the call's own outcome: the failure is kept, the callback's exception is added to it as
 * suppressed (when it allows suppression) and logged.
 */
final class Callbacks {

    /** Made on first use: looking up the logging backend is not free, and most runs never log here. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger("dev.resilience.core.callback");
    }

    private Callbacks() {
    }

    /**
     * {@code predicate.test(failure)}, or {@code otherwise} if it throws; the thrown exception is
     * attached to {@code failure} and logged.
     */
    static boolean test(Predicate<Throwable> predicate, Throwable failure, boolean otherwise, String what) {
        try {
            return predicate.test(failure);
        } catch (Throwable e) {
            failed(failure, e, what);
            return otherwise;
        }
    }

    /** Attaches {@code callbackFailure} to {@code outcome} (if any) and logs it. */
    static void failed(Throwable outcome, Throwable callbackFailure, String what) {
        Suppression.attach(outcome, callbackFailure); // a few at most: the caller may share the outcome between calls
        try {
            Log.LOG.log(System.Logger.Level.ERROR, what + " threw; the call's own outcome was kept", callbackFailure);
        } catch (Throwable ignored) {
            // logging itself failed
        }
    }
}
