package dev.resilience.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.AbstractQueue;

/** Padding before the producer's fields. */
abstract class QueuePadProducer<E> extends AbstractQueue<E> {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The producer side: its index, and its cached bound (consumer index + capacity). */
abstract class QueueProducerFields<E> extends QueuePadProducer<E> {
    static final VarHandle PRODUCER_INDEX;
    static final VarHandle PRODUCER_LIMIT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PRODUCER_INDEX = l.findVarHandle(QueueProducerFields.class, "producerIndex", long.class);
            PRODUCER_LIMIT = l.findVarHandle(QueueProducerFields.class, "producerLimit", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile long producerIndex;
    volatile long producerLimit;
}

/** Padding between the two sides. */
abstract class QueuePadConsumer<E> extends QueueProducerFields<E> {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/** The consumer side: its index. */
abstract class QueueConsumerFields<E> extends QueuePadConsumer<E> {
    static final VarHandle CONSUMER_INDEX;

    static {
        try {
            CONSUMER_INDEX = MethodHandles.lookup().findVarHandle(QueueConsumerFields.class, "consumerIndex",
                    long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile long consumerIndex;
}

/** Padding after the consumer's fields; the read-only fields follow. */
abstract class QueuePadEnd<E> extends QueueConsumerFields<E> {
    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;
}
