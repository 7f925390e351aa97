package dev.resilience.benchmarks;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Padding before the producer's fields of the benchmark-only queue copies. */
abstract class UnsafePadProducer {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The producer's index and cached limit. */
abstract class UnsafeProducerFields extends UnsafePadProducer {
    volatile long producerIndex;
    volatile long producerLimit;
}

/** Padding between the two sides. */
abstract class UnsafePadConsumer extends UnsafeProducerFields {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/** The consumer's index. */
abstract class UnsafeConsumerFields extends UnsafePadConsumer {
    volatile long consumerIndex;
}

/**
 * Not a product: what the benchmark-only queue copies ({@link UnsafeSpscQueue},
 * {@link UnsafeMpscQueue}, {@link UnsafeMpmcQueue}) share, laid out as the pool's queues lay theirs out: the indices as
 * VarHandles on volatile fields, the producer's and the consumer's padded apart, one class per group
 * so that the order is fixed (a superclass's fields come first; within one class the JVM may reorder
 * them), then the ring and its mask.
 */
abstract class UnsafeQueueFields extends UnsafeConsumerFields {

    static final VarHandle PRODUCER_INDEX;
    static final VarHandle PRODUCER_LIMIT;
    static final VarHandle CONSUMER_INDEX;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PRODUCER_INDEX = l.findVarHandle(UnsafeProducerFields.class, "producerIndex", long.class);
            PRODUCER_LIMIT = l.findVarHandle(UnsafeProducerFields.class, "producerLimit", long.class);
            CONSUMER_INDEX = l.findVarHandle(UnsafeConsumerFields.class, "consumerIndex", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * What a failed batch {@code fill} leaves in a slot in the pool's MPSC and MPMC queues; the copies
     * have no {@code fill}, so no slot ever holds it, but their polls compare with it as ours do.
     */
    static final Object FILLER = new Object();

    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;

    final Object[] buffer;
    final int mask;

    /**
     * @param capacity a power of two, at least 2
     */
    UnsafeQueueFields(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two of at least 2: " + capacity);
        }
        this.buffer = new Object[capacity];
        this.mask = capacity - 1;
        this.producerLimit = capacity;
    }
}
