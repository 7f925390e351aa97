package dev.resilience.benchmarks;

import java.lang.invoke.VarHandle;

/**
 * Not a product: {@code dev.resilience.pool.MpmcArrayQueue}'s offer and poll, line for line, with its
 * accesses to the element ring and to the sequence array made through {@code sun.misc.Unsafe} at raw
 * offsets, as JCTools makes them (no bounds check, no check of the array's class on a store;
 * {@link UnsafeArrays}); the MPMC counterpart of {@link UnsafeSpscQueue} and {@link UnsafeMpscQueue},
 * for {@link QueueSafetyTaxBenchmark}. The indices keep ours (VarHandles on padded fields, a CAS on
 * each side), and so does the poll's skip of a filler a failed batch {@code fill} would leave (this
 * copy has no {@code fill}, so the compare never matches, but it is paid as in ours).
 *
 * @param <E> the element type
 */
public final class UnsafeMpmcQueue<E> extends UnsafeQueueFields {

    private final long[] sequences;

    /**
     * @param capacity a power of two, at least 2
     */
    public UnsafeMpmcQueue(int capacity) {
        super(capacity);
        this.sequences = new long[capacity];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = i;
        }
        VarHandle.releaseFence();
    }

    /** {@code MpmcArrayQueue.offer}, with unchecked array access. */
    public boolean offer(E e) {
        if (e == null) {
            throw new NullPointerException("element");
        }
        long[] seqs = sequences;
        int m = mask;
        long p;
        long seqOffset;
        for (;;) {
            p = producerIndex;
            seqOffset = UnsafeArrays.longOffset(p, m);
            long seq = UnsafeArrays.loadAcquire(seqs, seqOffset);
            if (seq == p) {
                if (PRODUCER_INDEX.compareAndSet(this, p, p + 1)) {
                    break;
                }
            } else if (seq < p) {
                return false;
            }
        }
        VarHandle.releaseFence();
        UnsafeArrays.storePlain(buffer, UnsafeArrays.offset(p, m), e);
        UnsafeArrays.storeRelease(seqs, seqOffset, p + 1);
        return true;
    }

    /** {@code MpmcArrayQueue.poll}, with unchecked array access. */
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        long[] seqs = sequences;
        int m = mask;
        for (;;) {
            long c = consumerIndex;
            long seqOffset = UnsafeArrays.longOffset(c, m);
            long seq = UnsafeArrays.loadAcquire(seqs, seqOffset);
            if (seq == c + 1) {
                if (CONSUMER_INDEX.compareAndSet(this, c, c + 1)) {
                    long offset = UnsafeArrays.offset(c, m);
                    Object e = UnsafeArrays.loadPlain(buf, offset);
                    UnsafeArrays.storePlain(buf, offset, null);
                    UnsafeArrays.storeRelease(seqs, seqOffset, c + m + 1);
                    if (e != FILLER) {
                        return (E) e;
                    }
                }
            } else if (seq < c + 1) {
                return null;
            }
        }
    }
}
