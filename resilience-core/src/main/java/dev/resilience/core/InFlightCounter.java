package dev.resilience.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Left padding for the contended in-use counter. */
abstract class InFlightPadLeft {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

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

/** Right padding; the read-mostly fields of the bulkhead or limiter follow it. */
abstract class InFlightPadRight extends InFlightCounter {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}
