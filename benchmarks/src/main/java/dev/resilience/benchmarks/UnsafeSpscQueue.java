package dev.resilience.benchmarks;

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

    private final int lookAhead;

    /**
     * @param capacity a power of two, at least 2
     */
    public UnsafeSpscQueue(int capacity) {
        super(capacity);
        this.lookAhead = Math.max(1, Math.min(capacity / 4, 4096));
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
        UnsafeArrays.storeRelease(buf, UnsafeArrays.offset(p, m), e);
        PRODUCER_INDEX.setRelease(this, p + 1);
        return true;
    }

    private boolean roomAhead(Object[] buf, int m, long p) {
        long ahead = p + lookAhead;
        if (UnsafeArrays.loadAcquire(buf, UnsafeArrays.offset(ahead, m)) == null) {
            PRODUCER_LIMIT.set(this, ahead);
            return true;
        }
        if (UnsafeArrays.loadAcquire(buf, UnsafeArrays.offset(p, m)) == null) {
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
        long offset = UnsafeArrays.offset(c, mask);
        Object e = UnsafeArrays.loadAcquire(buf, offset);
        if (e == null) {
            return null;
        }
        UnsafeArrays.storeRelease(buf, offset, null);
        CONSUMER_INDEX.setRelease(this, c + 1);
        return (E) e;
    }
}
