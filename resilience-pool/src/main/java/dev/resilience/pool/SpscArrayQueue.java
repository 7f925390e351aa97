package dev.resilience.pool;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A bounded lock-free queue for exactly one producer thread and one consumer thread. The producer
 * caches how far it may run ahead of the consumer and rarely reads the consumer's index; the
 * consumer reads only the slots. Calling {@code offer} from two threads, or {@code poll} from two,
 * breaks it.
 *
 * <p>How the two sides stay apart: a slot is free exactly when it holds null. The producer stores
 * an element release-ordered (a release fence, then the store; its release store of the producer
 * index follows) and the consumer reads the slot with acquire, so the element's state is visible to
 * the consumer. The consumer empties a slot the same way after reading it; when the producer sees a
 * slot {@code lookAhead} ahead empty (acquire), every slot before it was read and emptied before,
 * because the one consumer empties slots in order. Each side's own index is read plainly (only its
 * thread writes it) and published with release for {@link #size()}. {@code fill} claims nothing
 * before its supplier returns, so this queue never needs the filler the multi-producer queues leave
 * in a claimed slot.
 *
 * @param <E> the element type
 */
public final class SpscArrayQueue<E> extends BoundedArrayQueue<E> {

    /** How far ahead of its index the producer looks for an empty slot. */
    private final int lookAhead;

    /**
     * Creates an empty queue.
     *
     * @param capacity at least 2, rounded up to a power of two
     * @throws IllegalArgumentException if {@code capacity} is below 2 or above 2^30
     */
    public SpscArrayQueue(int capacity) {
        super(capacity);
        this.lookAhead = Math.max(1, Math.min(capacity() / 4, 4096));
    }

    @Override
    public boolean offer(E e) {
        checkNotNull(e);
        Object[] buf = buffer;
        int m = mask;
        long p = (long) PRODUCER_INDEX.get(this); // plain: only this thread writes it
        if (p >= (long) PRODUCER_LIMIT.get(this) && !roomAhead(buf, m, p)) {
            return false;
        }
        storeBeforeRelease(buf, (int) p & m, e);
        PRODUCER_INDEX.setRelease(this, p + 1);
        return true;
    }

    /**
     * The slow path of the producer: looks ahead in the buffer (the consumer empties the slots it has
     * taken, in order) instead of reading the consumer's index, and caches how far it may go.
     */
    private boolean roomAhead(Object[] buf, int m, long p) {
        long ahead = p + lookAhead;
        if (loadAcquire(buf, (int) ahead & m) == null) {
            PRODUCER_LIMIT.set(this, ahead); // plain: only the producer reads it
            return true;
        }
        if (loadAcquire(buf, (int) p & m) == null) {
            PRODUCER_LIMIT.set(this, p + 1);
            return true;
        }
        return false;
    }

    @Override
    public boolean relaxedOffer(E e) {
        return offer(e);
    }

    @Override
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        long c = (long) CONSUMER_INDEX.get(this); // plain: only this thread writes it
        int i = (int) c & mask;
        Object e = loadAcquire(buf, i);
        if (e == null) {
            return null;
        }
        storeBeforeRelease(buf, i, null); // ordered: the producer may reuse the slot once it sees null
        CONSUMER_INDEX.setRelease(this, c + 1);
        return (E) e;
    }

    @Override
    public E relaxedPoll() {
        return poll();
    }

    @Override
    @SuppressWarnings("unchecked")
    public E peek() {
        return (E) loadAcquire(buffer, (int) (long) CONSUMER_INDEX.get(this) & mask);
    }

    @Override
    public E relaxedPeek() {
        return peek();
    }

    /**
     * Fills slot after slot, looking ahead only when it reaches its cached limit, and publishes its
     * index once at the end (the consumer reads the slots, not this index). If the supplier throws,
     * what it supplied before stays in the queue. Each inner run stays within the array (it ends
     * where the ring wraps), so the JIT can drop the per-element bounds checks.
     */
    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        Object[] buf = buffer;
        int m = mask;
        long start = (long) PRODUCER_INDEX.get(this);
        long end = start + limit;
        long bound = (long) PRODUCER_LIMIT.get(this);
        long p = start;
        try {
            while (p < end) {
                if (p >= bound) {
                    if (!roomAhead(buf, m, p)) {
                        break;
                    }
                    bound = (long) PRODUCER_LIMIT.get(this);
                }
                int from = (int) p & m;
                int to = (int) Math.min(from + Math.min(end, bound) - p, m + 1L);
                for (int i = from; i < to; i++) {
                    storeBeforeRelease(buf, i, checkNotNull(supplier.get()));
                    p++;
                }
            }
        } finally {
            PRODUCER_INDEX.setRelease(this, p);
        }
        return (int) (p - start);
    }

    /**
     * Takes slot after slot and publishes the consumer index once at the end (or when the consumer
     * throws; the element it threw on counts as taken).
     */
    @Override
    @SuppressWarnings("unchecked")
    public int drain(Consumer<? super E> consumer, int limit) {
        checkDrain(consumer, limit);
        Object[] buf = buffer;
        int m = mask;
        long start = (long) CONSUMER_INDEX.get(this);
        long end = start + limit;
        long c = start;
        try {
            runs:
            while (c < end) {
                int from = (int) c & m;
                int to = (int) Math.min(from + end - c, m + 1L);
                for (int i = from; i < to; i++) {
                    Object e = loadAcquire(buf, i);
                    if (e == null) {
                        break runs;
                    }
                    storeBeforeRelease(buf, i, null);
                    c++;
                    consumer.accept((E) e);
                }
            }
        } finally {
            CONSUMER_INDEX.setRelease(this, c);
        }
        return (int) (c - start);
    }
}
