package dev.resilience.pool;

import java.util.function.Supplier;

/**
 * A bounded lock-free queue for any number of producer threads and exactly one consumer thread.
 * Producers claim a slot with one CAS on the producer index (checked against a cached bound, so
 * they rarely read the consumer's index); the consumer never writes a shared index with a CAS.
 *
 * <p>{@link #poll()} may spin briefly when a producer has claimed the next slot but not yet
 * published its element; {@link #relaxedPoll()} returns null instead.
 *
 * @param <E> the element type
 */
public final class MpscArrayQueue<E> extends BoundedArrayQueue<E> {

    /**
     * @param capacity at least 2, rounded up to a power of two
     */
    public MpscArrayQueue(int capacity) {
        super(capacity);
    }

    /** Claims one slot, or returns -1 when full. */
    private long claim() {
        long limit = producerLimit;
        for (;;) {
            long p = producerIndex;
            if (p >= limit) {
                limit = (long) CONSUMER_INDEX.getAcquire(this) + capacity();
                if (p >= limit) {
                    return -1;
                }
                PRODUCER_LIMIT.setRelease(this, limit);
            }
            if (PRODUCER_INDEX.compareAndSet(this, p, p + 1)) {
                return p;
            }
        }
    }

    @Override
    public boolean offer(E e) {
        checkNotNull(e);
        long p = claim();
        if (p < 0) {
            return false;
        }
        SLOT.setRelease(buffer, (int) (p & mask), e);
        return true;
    }

    @Override
    public boolean relaxedOffer(E e) {
        return offer(e);
    }

    /** Waits out a producer that has claimed the next slot but not yet published into it. */
    @Override
    public E poll() {
        for (;;) {
            E e = takeSingleConsumer();
            if (e != null || consumerIndex == producerIndex) {
                return e;
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public E relaxedPoll() {
        return takeSingleConsumer();
    }

    /** Waits out a producer that has claimed the next slot but not yet published into it. */
    @Override
    public E peek() {
        for (;;) {
            E e = peekSingleConsumer();
            if (e != null || consumerIndex == producerIndex) {
                return e;
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public E relaxedPeek() {
        return peekSingleConsumer();
    }

    /** Claims up to {@value #BATCH} slots at a time with one CAS, then publishes into them in order. */
    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        int n = 0;
        long bound = producerLimit;
        while (n < limit) {
            int wanted = Math.min(limit - n, BATCH);
            long p;
            int k;
            for (;;) {
                p = producerIndex;
                if (p >= bound) {
                    bound = (long) CONSUMER_INDEX.getAcquire(this) + capacity();
                    if (p >= bound) {
                        return n;
                    }
                    PRODUCER_LIMIT.setRelease(this, bound);
                }
                k = (int) Math.min(wanted, bound - p);
                if (PRODUCER_INDEX.compareAndSet(this, p, p + k)) {
                    break;
                }
            }
            publishAll(supplier, p, k, (e, at) -> SLOT.setRelease(buffer, (int) (at & mask), e));
            n += k;
        }
        return n;
    }
}
