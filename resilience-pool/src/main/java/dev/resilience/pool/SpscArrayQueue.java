package dev.resilience.pool;

import java.util.function.Supplier;

/**
 * A bounded lock-free queue for exactly one producer thread and one consumer thread. The producer
 * caches how far it may run ahead of the consumer and rarely reads the consumer's index; the
 * consumer reads only the slots. Calling {@code offer} from two threads, or {@code poll} from two,
 * breaks it.
 *
 * @param <E> the element type
 */
public final class SpscArrayQueue<E> extends BoundedArrayQueue<E> {

    /**
     * @param capacity at least 2, rounded up to a power of two
     */
    public SpscArrayQueue(int capacity) {
        super(capacity);
    }

    @Override
    public boolean offer(E e) {
        checkNotNull(e);
        long p = producerIndex;
        if (p >= producerLimit && !roomAhead(p)) {
            return false;
        }
        SLOT.setRelease(buffer, (int) (p & mask), e);
        PRODUCER_INDEX.setRelease(this, p + 1);
        return true;
    }

    /**
     * The producer looks ahead in the buffer (the consumer nulls slots it has taken) instead of
     * reading the consumer's index, and caches how far it may go.
     */
    private boolean roomAhead(long p) {
        int lookAhead = Math.min(capacity() / 4, 4096);
        if (SLOT.getAcquire(buffer, (int) ((p + lookAhead) & mask)) == null) {
            PRODUCER_LIMIT.setOpaque(this, p + lookAhead);
            return true;
        }
        return SLOT.getAcquire(buffer, (int) (p & mask)) == null;
    }

    @Override
    public boolean relaxedOffer(E e) {
        return offer(e);
    }

    @Override
    public E poll() {
        return takeSingleConsumer();
    }

    @Override
    public E relaxedPoll() {
        return takeSingleConsumer();
    }

    @Override
    public E peek() {
        return peekSingleConsumer();
    }

    @Override
    public E relaxedPeek() {
        return peekSingleConsumer();
    }

    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        long p = producerIndex;
        int n = 0;
        try {
            while (n < limit) {
                if (p >= producerLimit && !roomAhead(p)) {
                    break;
                }
                SLOT.setRelease(buffer, (int) (p & mask), checkNotNull(supplier.get()));
                p++;
                n++;
            }
        } finally {
            PRODUCER_INDEX.setRelease(this, p); // once per batch: the consumer reads slots, not this index
        }
        return n;
    }
}
