package dev.resilience.pool;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A bounded lock-free queue for any number of producer threads and exactly one consumer thread.
 * Producers claim a slot with one CAS on the producer index (checked against a cached bound, so
 * they rarely read the consumer's index); the consumer never writes a shared index with a CAS.
 *
 * <p>{@link #poll()} may spin briefly when a producer has claimed the next slot but not yet
 * published its element; {@link #relaxedPoll()} returns null instead.
 *
 * <p>How the two sides stay apart: a producer may write slot {@code p} only after the consumer
 * index it read (acquire) is above {@code p - capacity}; the consumer empties a slot before it
 * publishes its index past it (release), so the producer never overwrites an element not yet
 * taken. A producer stores its element with release and the consumer reads the slot with acquire,
 * so the slot itself tells the consumer the element is there; the consumer reads its own index
 * plainly (only its thread writes it).
 *
 * @param <E> the element type
 */
public final class MpscArrayQueue<E> extends BoundedArrayQueue<E> {

    /**
     * Creates an empty queue.
     *
     * @param capacity at least 2, rounded up to a power of two
     * @throws IllegalArgumentException if {@code capacity} is below 2 or above 2^30
     */
    public MpscArrayQueue(int capacity) {
        super(capacity);
    }

    @Override
    public boolean offer(E e) {
        checkNotNull(e);
        long limit = producerLimit;
        long p;
        do {
            p = producerIndex;
            if (p >= limit) {
                limit = (long) CONSUMER_INDEX.getAcquire(this) + capacity();
                if (p >= limit) {
                    return false;
                }
                PRODUCER_LIMIT.setRelease(this, limit);
            }
        } while (!PRODUCER_INDEX.compareAndSet(this, p, p + 1));
        setReleaseSlot(buffer, (int) p & mask, e);
        return true;
    }

    @Override
    public boolean relaxedOffer(E e) {
        return offer(e);
    }

    /** Waits out a producer that has claimed the next slot but not yet published into it. */
    @Override
    public E poll() {
        return next(true, true);
    }

    @Override
    public E relaxedPoll() {
        return next(false, true);
    }

    /** Waits out a producer that has claimed the next slot but not yet published into it. */
    @Override
    public E peek() {
        return next(true, false);
    }

    @Override
    public E relaxedPeek() {
        return next(false, false);
    }

    /**
     * The element in the next slot, taken from the queue if {@code take}, skipping (and removing)
     * fillers left by failed {@code fill}s; when the slot is empty, returns null if the queue is
     * empty or {@code !wait}, else waits for its producer. Its four callers pass constants, which
     * the JIT folds where it inlines this.
     */
    @SuppressWarnings("unchecked")
    private E next(boolean wait, boolean take) {
        Object[] buf = buffer;
        int m = mask;
        long c = (long) CONSUMER_INDEX.get(this); // plain: only this thread writes it
        for (;;) {
            int i = (int) c & m;
            Object e = loadAcquire(buf, i);
            if (e == null) {
                if (!wait || c == producerIndex) {
                    return null;
                }
                // A producer claimed this slot and has not published into it yet: wait for it with
                // getAcquire, whose reads the JMM guarantees to see the store eventually (a plain
                // read in a loop has no such guarantee). Cold: only a producer caught mid-offer.
                while ((e = SLOT.getAcquire(buf, i)) == null) {
                    Thread.onSpinWait();
                }
            }
            if (e != FILLER && !take) {
                return (E) e;
            }
            buf[i] = null; // plain: producers learn of the free slot from the index released below
            CONSUMER_INDEX.setRelease(this, ++c);
            if (e != FILLER) {
                return (E) e;
            }
        }
    }

    /** Claims up to {@value #BATCH} slots at a time with one CAS, then publishes into them in order. */
    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        int m = mask;
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
                // a run ends where the ring wraps, so the JIT can drop the per-element bounds checks
                k = (int) Math.min(Math.min(wanted, bound - p), m + 1 - ((int) p & m));
                if (PRODUCER_INDEX.compareAndSet(this, p, p + k)) {
                    break;
                }
            }
            publish(supplier, p, k);
            n += k;
        }
        return n;
    }

    /**
     * Publishes the supplier's next {@code k} elements into the claimed slots from {@code p} (a run
     * that does not wrap); if the supplier fails, fillers go into the slots left so the consumer does
     * not wait for them.
     */
    private void publish(Supplier<? extends E> supplier, long p, int k) {
        Object[] buf = buffer;
        int from = (int) p & mask;
        int to = from + k;
        int i = from;
        try {
            for (; i < to; i++) {
                setReleaseSlot(buf, i, checkNotNull(supplier.get()));
            }
        } catch (Throwable failure) {
            for (; i < to; i++) {
                setReleaseSlot(buf, i, FILLER);
            }
            throw failure;
        }
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
        long c = (long) CONSUMER_INDEX.get(this);
        int n = 0;
        try {
            runs:
            while (n < limit) {
                int from = (int) c & m;
                int to = (int) Math.min((long) from + limit - n, m + 1L);
                for (int i = from; i < to; i++) {
                    Object e = loadAcquire(buf, i);
                    if (e == null) {
                        break runs;
                    }
                    buf[i] = null; // plain: producers learn of the free slot from the index released below
                    c++;
                    if (e != FILLER) {
                        n++;
                        consumer.accept((E) e);
                    }
                }
            }
        } finally {
            CONSUMER_INDEX.setRelease(this, c);
        }
        return n;
    }
}
