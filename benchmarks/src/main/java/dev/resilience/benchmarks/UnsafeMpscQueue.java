package dev.resilience.benchmarks;

/**
 * Not a product: {@code dev.resilience.pool.MpscArrayQueue}'s offer and poll, line for line, with its
 * array accesses made through {@code sun.misc.Unsafe} at raw offsets, as JCTools makes them (no
 * bounds check, no check of the array's class on a store; {@link UnsafeArrays}); the MPSC counterpart of
 * {@link UnsafeSpscQueue}, for {@link QueueSafetyTaxBenchmark}. The indices keep ours (VarHandles on
 * padded fields, a CAS to claim a slot), and so does the poll's skip of a filler a failed batch
 * {@code fill} would leave (this copy has no {@code fill}, so the compare never matches, but it is
 * paid as in ours).
 *
 * @param <E> the element type
 */
public final class UnsafeMpscQueue<E> extends UnsafeQueueFields {

    /**
     * @param capacity a power of two, at least 2
     */
    public UnsafeMpscQueue(int capacity) {
        super(capacity);
    }

    /** {@code MpscArrayQueue.offer}, with unchecked array access. */
    public boolean offer(E e) {
        if (e == null) {
            throw new NullPointerException("element");
        }
        long limit = producerLimit;
        long p;
        do {
            p = producerIndex;
            if (p >= limit) {
                limit = (long) CONSUMER_INDEX.getAcquire(this) + mask + 1;
                if (p >= limit) {
                    return false;
                }
                PRODUCER_LIMIT.setRelease(this, limit);
            }
        } while (!PRODUCER_INDEX.compareAndSet(this, p, p + 1));
        UnsafeArrays.storeRelease(buffer, UnsafeArrays.offset(p, mask), e);
        return true;
    }

    /** {@code MpscArrayQueue.poll} (its {@code next(true, true)}), with unchecked array access. */
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        int m = mask;
        long c = (long) CONSUMER_INDEX.get(this);
        for (;;) {
            long offset = UnsafeArrays.offset(c, m);
            Object e = UnsafeArrays.loadAcquire(buf, offset);
            if (e == null) {
                if (c == producerIndex) {
                    return null;
                }
                while ((e = UnsafeArrays.loadVolatile(buf, offset)) == null) {
                    Thread.onSpinWait();
                }
            }
            UnsafeArrays.storePlain(buf, offset, null);
            CONSUMER_INDEX.setRelease(this, ++c);
            if (e != FILLER) {
                return (E) e;
            }
        }
    }
}
