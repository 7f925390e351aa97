package dev.resilience.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** What the three array queues share: the ring, its mask, size estimate, iteration, drain and fill. */
abstract class BoundedArrayQueue<E> extends QueuePadEnd<E> implements MessageQueue<E> {

    static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    static final int MAX_CAPACITY = 1 << 30;
    /**
     * Published in a slot a producer claimed for {@code fill} when the supplier then failed, so the
     * consumer is not left waiting for an element that never comes; consumers skip it.
     */
    static final Object FILLER = new Object();

    final Object[] buffer;
    final int mask;

    BoundedArrayQueue(int requestedCapacity) {
        if (requestedCapacity < 2 || requestedCapacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be in [2, 2^30]: " + requestedCapacity);
        }
        int capacity = Integer.highestOneBit(requestedCapacity - 1) << 1;
        this.buffer = new Object[capacity];
        this.mask = capacity - 1;
        this.producerLimit = capacity;
    }

    @Override
    public final int capacity() {
        return mask + 1;
    }

    /** An estimate, read consistently as JCTools does: never negative, never above capacity. */
    @Override
    public final int size() {
        long after = consumerIndex;
        for (;;) {
            long before = after;
            long producer = producerIndex;
            after = consumerIndex;
            if (before == after) {
                long size = producer - after;
                return (int) Math.max(0, Math.min(size, capacity()));
            }
        }
    }

    @Override
    public final boolean isEmpty() {
        return consumerIndex >= producerIndex;
    }

    /** The most slots a batch {@code fill} or {@code drain} claims with one CAS. */
    static final int BATCH = 64;

    /**
     * Publishes {@code k} elements from {@code supplier} into the claimed slots {@code p ..
     * p + k - 1}; if the supplier fails, fillers go into the slots left so consumers do not wait.
     */
    final void publishAll(Supplier<? extends E> supplier, long p, int k, java.util.function.ObjLongConsumer<Object> publish) {
        long q = p;
        try {
            for (; q < p + k; q++) {
                supplyInto(supplier, q, publish);
            }
        } catch (RuntimeException | Error failure) {
            for (long rest = q + 1; rest < p + k; rest++) {
                publish.accept(FILLER, rest);
            }
            throw failure;
        }
    }

    /**
     * For a single consumer: takes elements slot by slot and publishes the consumer index once at the
     * end (or when the consumer throws; the element it threw on counts as taken).
     */
    @Override
    @SuppressWarnings("unchecked")
    public int drain(Consumer<? super E> consumer, int limit) {
        checkDrain(consumer, limit);
        long c = consumerIndex;
        int n = 0;
        try {
            while (n < limit) {
                int i = (int) (c & mask);
                Object e = SLOT.getAcquire(buffer, i);
                if (e == null) {
                    break;
                }
                SLOT.setOpaque(buffer, i, null);
                c++;
                if (e != FILLER) {
                    n++;
                    consumer.accept((E) e);
                }
            }
        } finally {
            CONSUMER_INDEX.setRelease(this, c);
        }
        return n;
    }

    static void checkDrain(Consumer<?> consumer, int limit) {
        Objects.requireNonNull(consumer, "consumer");
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative: " + limit);
        }
    }

    /** The supplier's next element for a slot already claimed; publishes a filler if it fails. */
    final E supplyInto(Supplier<? extends E> supplier, long p, java.util.function.ObjLongConsumer<Object> publish) {
        E e;
        try {
            e = checkNotNull(supplier.get());
        } catch (RuntimeException | Error failure) {
            publish.accept(FILLER, p);
            throw failure;
        }
        publish.accept(e, p);
        return e;
    }

    /**
     * For a single consumer: takes the element published in the next slot, or returns null if none
     * is visible yet; skips fillers left by failed {@code fill}s.
     */
    @SuppressWarnings("unchecked")
    final E takeSingleConsumer() {
        for (;;) {
            long c = consumerIndex;
            int i = (int) (c & mask);
            Object e = SLOT.getAcquire(buffer, i);
            if (e == null) {
                return null;
            }
            SLOT.setOpaque(buffer, i, null);
            CONSUMER_INDEX.setRelease(this, c + 1);
            if (e != FILLER) {
                return (E) e;
            }
        }
    }

    /** For a single consumer: the element in the next slot, or null; drops fillers on the way. */
    @SuppressWarnings("unchecked")
    final E peekSingleConsumer() {
        for (;;) {
            long c = consumerIndex;
            int i = (int) (c & mask);
            Object e = SLOT.getAcquire(buffer, i);
            if (e != FILLER) {
                return (E) e;
            }
            SLOT.setOpaque(buffer, i, null);
            CONSUMER_INDEX.setRelease(this, c + 1);
        }
    }

    /** Checks the arguments of {@code fill}. */
    static void checkFill(Supplier<?> supplier, int limit) {
        Objects.requireNonNull(supplier, "supplier");
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative: " + limit);
        }
    }

    /** Weakly consistent: a snapshot of the elements visible now, oldest first. Removal unsupported. */
    @Override
    public final Iterator<E> iterator() {
        List<E> snapshot = new ArrayList<>();
        long c = consumerIndex;
        long p = producerIndex;
        for (long i = c; i < p && i - c < capacity(); i++) {
            @SuppressWarnings("unchecked")
            E e = (E) SLOT.getAcquire(buffer, (int) (i & mask));
            if (e != null && e != FILLER) {
                snapshot.add(e);
            }
        }
        return java.util.Collections.unmodifiableList(snapshot).iterator();
    }

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "[capacity " + capacity() + ", size ~" + size() + "]";
    }

    static <E> E checkNotNull(E e) {
        if (e == null) {
            throw new NullPointerException("element");
        }
        return e;
    }
}
