package dev.resilience.benchmarks;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Not a product: the indices of the benchmark-only queue copies ({@link UnsafeSpscQueue},
 * {@link UnsafeMpscQueue}), kept as the pool's queues keep theirs: VarHandles on volatile fields,
 * the producer's and the consumer's padded apart (a superclass's fields come first, so the order
 * is fixed as in the pool).
 */
abstract class UnsafeQueueFields {

    static final VarHandle PRODUCER_INDEX;
    static final VarHandle PRODUCER_LIMIT;
    static final VarHandle CONSUMER_INDEX;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PRODUCER_INDEX = l.findVarHandle(UnsafeQueueFields.class, "producerIndex", long.class);
            PRODUCER_LIMIT = l.findVarHandle(UnsafeQueueFields.class, "producerLimit", long.class);
            CONSUMER_INDEX = l.findVarHandle(UnsafeQueueFields.class, "consumerIndex", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    volatile long producerIndex;
    volatile long producerLimit;
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
    volatile long consumerIndex;
    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;
}
