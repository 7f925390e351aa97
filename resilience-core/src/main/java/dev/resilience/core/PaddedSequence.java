package dev.resilience.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Left padding of {@link PaddedSequence}. */
abstract class PaddedSequencePadLeft {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The counter itself. */
abstract class PaddedSequenceValue extends PaddedSequencePadLeft {
    static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(PaddedSequenceValue.class, "value", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile long value;
}

/** Right padding of {@link PaddedSequence}. */
abstract class PaddedSequencePadRight extends PaddedSequenceValue {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/**
 * A contended counter alone on its cache lines, so that incrementing it does not slow the readers
 * of whatever was allocated next to it.
 */
final class PaddedSequence extends PaddedSequencePadRight {

    long getAndIncrement() {
        return (long) VALUE.getAndAdd(this, 1L);
    }

    long get() {
        return value;
    }
}
