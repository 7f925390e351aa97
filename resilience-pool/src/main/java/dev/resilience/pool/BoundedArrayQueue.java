package dev.resilience.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the three array queues share: the ring, its mask, the size estimate, iteration and argument
 * checks. Each queue has its own hot paths: they copy the fields they use into locals first (an
 * acquire load would otherwise force the JIT to load them again) and compute a slot as
 * {@code (int) index & mask}.
 */
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
     * Stores {@code e} into slot {@code i} so that no earlier load or store is reordered after it: a
     * release fence, then a plain array store. Only for stores a release store of the same thread
     * follows before the operation returns (the producer or consumer index of the SPSC queue, the
     * slot's sequence of the MPMC queue), so the store is visible no later than that one; where the
     * slot is the last store of the operation (MPSC), use {@link #setReleaseSlot}. Cheaper than
     * {@code SLOT.setRelease} on JDK 17: the JIT checks the array store against the one array class
     * it has seen, where the VarHandle loads the array's component type on every store.
     */
    static void storeBeforeRelease(Object[] buf, int i, Object e) {
        VarHandle.releaseFence();
        buf[i] = e;
    }

    /**
     * Slot {@code i}, read so that no later load or store moves before the read: a plain array load,
     * then an acquire fence. It orders like {@code SLOT.getAcquire}, but it is not opaque: the JMM
     * does not promise that repeated plain reads of a slot ever see a new store (HotSpot's compilers
     * treat the fence as a barrier for every memory access, so they do not merge such reads, but that
     * is an implementation's behaviour). So it is for a single read whose null means "nothing yet,
     * come back later"; a loop that waits on one slot uses {@code SLOT.getAcquire}. Cheaper on JDK 17
     * for the same reason as {@link #storeBeforeRelease}: the VarHandle checks the array's class on
     * every access, the plain load keeps only the bounds check.
     */
    static Object loadAcquire(Object[] buf, int i) {
        Object e = buf[i];
        VarHandle.acquireFence();
        return e;
    }

    /**
     * {@code SLOT.setRelease(buf, i, e)}, behind a test the JIT turns into a single compare of the
     * array's class: once it knows {@code buf} is exactly an {@code Object[]} (the queues allocate
     * nothing else), it drops the VarHandle's load of the array's component type on every store.
     * Both branches do the same store.
     */
    static void setReleaseSlot(Object[] buf, int i, Object e) {
        if (buf.getClass() == Object[].class) {
            SLOT.setRelease(buf, i, e);
        } else {
            SLOT.setRelease(buf, i, e);
        }
    }

    static void checkDrain(Consumer<?> consumer, int limit) {
        Objects.requireNonNull(consumer, "consumer");
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative: " + limit);
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
