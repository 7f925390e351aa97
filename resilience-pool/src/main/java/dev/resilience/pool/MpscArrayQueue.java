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

    @Override
    @SuppressWarnings("unchecked")
    public E poll() {
        long c = consumerIndex;
        int i = (int) (c & mask);
        E e = (E) SLOT.getAcquire(buffer, i);
        if (e == null) {
            if (c == producerIndex) {
                return null;
            }
            do {
                Thread.onSpinWait();
                e = (E) SLOT.getAcquire(buffer, i);
            } while (e == null);
        }
        consumeSlot(c, i);
        return e == FILLER ? poll() : e;
    }

    @Override
    @SuppressWarnings("unchecked")
    public E relaxedPoll() {
        long c = consumerIndex;
        int i = (int) (c & mask);
        E e = (E) SLOT.getAcquire(buffer, i);
        if (e == null) {
            return null;
        }
        consumeSlot(c, i);
        return e == FILLER ? relaxedPoll() : e;
    }

    @Override
    @SuppressWarnings("unchecked")
    public E peek() {
        long c = consumerIndex;
        int i = (int) (c & mask);
        E e = (E) SLOT.getAcquire(buffer, i);
        while (e == null && c != producerIndex) {
            Thread.onSpinWait();
            e = (E) SLOT.getAcquire(buffer, i);
        }
        if (e == FILLER) {
            consumeSlot(c, i);
            return peek();
        }
        return e;
    }

    @Override
    @SuppressWarnings("unchecked")
    public E relaxedPeek() {
        long c = consumerIndex;
        int i = (int) (c & mask);
        E e = (E) SLOT.getAcquire(buffer, i);
        if (e == FILLER) {
            consumeSlot(c, i);
            return relaxedPeek();
        }
        return e;
    }



    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        int n = 0;
        while (n < limit) {
            long p = claim();
            if (p < 0) {
                break;
            }
            supplyInto(supplier, p, (e, at) -> SLOT.setRelease(buffer, (int) (at & mask), e));
            n++;
        }
        return n;
    }
}
