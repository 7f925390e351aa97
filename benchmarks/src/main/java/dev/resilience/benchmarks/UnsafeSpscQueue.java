package dev.resilience.benchmarks;

import java.lang.invoke.VarHandle;

/**
 * Not a product: {@code dev.resilience.pool.SpscArrayQueue}'s offer and poll, line for line, with its
 * array accesses made through {@code sun.misc.Unsafe} at raw offsets, as JCTools makes them (no
 * bounds check, no check of the array's class on a store; {@link UnsafeArrays}).
 * {@link QueueSafetyTaxBenchmark} runs it beside ours and JCTools' to measure what the library's safe
 * array access costs on one thread. The indices keep ours: VarHandles on padded fields.
 *
 * @param <E> the element type
 */
public final class UnsafeSpscQueue<E> extends UnsafeQueueFields {

    private final Object[] buffer;
    private final int mask;
    private final int lookAhead;

    /**
     * @param capacity a power of two, at least 2
     */
    public UnsafeSpscQueue(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two of at least 2: " + capacity);
        }
        this.buffer = new Object[capacity];
        this.mask = capacity - 1;
        this.producerLimit = capacity;
        this.lookAhead = Math.max(1, Math.min(capacity / 4, 4096));
    }

    private static long offset(long index, int mask) {
        return UnsafeArrays.offset(index, mask);
    }

    private static void storeRelease(Object[] buf, long offset, Object e) {
        UnsafeArrays.storeRelease(buf, offset, e);
    }

    /** A plain load, then an acquire fence: {@code SpscArrayQueue}'s {@code loadAcquire}. */
    private static Object loadAcquire(Object[] buf, long offset) {
        Object e = UnsafeArrays.loadPlain(buf, offset);
        VarHandle.acquireFence();
        return e;
    }

    /** {@code SpscArrayQueue.offer}, with unchecked array access. */
    public boolean offer(E e) {
        if (e == null) {
            throw new NullPointerException("element");
        }
        Object[] buf = buffer;
        int m = mask;
        long p = (long) PRODUCER_INDEX.get(this);
        if (p >= (long) PRODUCER_LIMIT.get(this) && !roomAhead(buf, m, p)) {
            return false;
        }
        storeRelease(buf, offset(p, m), e);
        PRODUCER_INDEX.setRelease(this, p + 1);
        return true;
    }

    private boolean roomAhead(Object[] buf, int m, long p) {
        long ahead = p + lookAhead;
        if (loadAcquire(buf, offset(ahead, m)) == null) {
            PRODUCER_LIMIT.set(this, ahead);
            return true;
        }
        if (loadAcquire(buf, offset(p, m)) == null) {
            PRODUCER_LIMIT.set(this, p + 1);
            return true;
        }
        return false;
    }

    /** {@code SpscArrayQueue.poll}, with unchecked array access. */
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        long c = (long) CONSUMER_INDEX.get(this);
        long offset = offset(c, mask);
        Object e = loadAcquire(buf, offset);
        if (e == null) {
            return null;
        }
        storeRelease(buf, offset, null);
        CONSUMER_INDEX.setRelease(this, c + 1);
        return (E) e;
    }
}
