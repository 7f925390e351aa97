package dev.resilience.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** The number of slots in use: the one contended word. */
abstract class InFlightCounter extends InFlightPadLeft {
    static final VarHandle IN_USE;

    static {
        try {
            IN_USE = MethodHandles.lookup().findVarHandle(InFlightCounter.class, "inUse", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile int inUse;
}
