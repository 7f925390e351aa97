package dev.resilience.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A bounded lock-free queue for any number of producer and consumer threads, after Dmitry Vyukov's
 * bounded MPMC queue: each slot carries a sequence number that tells producers and consumers whose
 * turn it is, so each side claims a slot with one CAS on its own index.
 *
 * <p>How the threads stay apart: slot {@code i} with sequence {@code s} is free for the producer of
 * index {@code s} when {@code s == index}, and holds the element of index {@code s - 1} when
 * {@code s == index + 1}. A producer stores the element, then the sequence with release; a consumer
 * reads the sequence with acquire before it claims the index, so the element is visible to it, and
 * it empties the slot before it moves the sequence a lap on (release), so the next producer never
 * writes into a slot not yet taken. The batch methods read the sequence of every slot of the run
 * they claim before the one CAS, so they never wait for another thread inside a claimed run.
 *
 * @param <E> the element type
 */
public final class MpmcArrayQueue<E> extends BoundedArrayQueue<E> {

    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] sequences;

    /**
     * Creates an empty queue.
     *
     * @param capacity at least 2, rounded up to a power of two
     * @throws IllegalArgumentException if {@code capacity} is below 2 or above 2^30
     */
    public MpmcArrayQueue(int capacity) {
        super(capacity);
        this.sequences = new long[capacity()];
        for (int i = 0; i < sequences.length; i++) {
            sequences[i] = i;
        }
        VarHandle.releaseFence();
    }

    @Override
    public boolean offer(E e) {
        checkNotNull(e);
        long[] seqs = sequences;
        int m = mask;
        long p;
        int i;
        for (;;) {
            p = producerIndex;
            i = (int) p & m;
            long seq = (long) SEQUENCE.getAcquire(seqs, i);
            if (seq == p) {
                if (PRODUCER_INDEX.compareAndSet(this, p, p + 1)) {
                    break;
                }
            } else if (seq < p) {
                return false;
            }
        }
        SLOT.setRelease(buffer, i, e);
        SEQUENCE.setRelease(seqs, i, p + 1);
        return true;
    }

    @Override
    public boolean relaxedOffer(E e) {
        return offer(e);
    }

    /**
     * Claims the next published slot with one CAS and takes its element, skipping fillers left by
     * failed {@code fill}s; null when the next slot is not published yet.
     */
    @Override
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        long[] seqs = sequences;
        int m = mask;
        for (;;) {
            long c = consumerIndex;
            int i = (int) c & m;
            long seq = (long) SEQUENCE.getAcquire(seqs, i);
            if (seq == c + 1) {
                if (CONSUMER_INDEX.compareAndSet(this, c, c + 1)) {
                    Object e = buf[i]; // plain: the acquire of the sequence made the element visible
                    buf[i] = null; // plain: the next producer learns of the free slot from the sequence
                    SEQUENCE.setRelease(seqs, i, c + m + 1);
                    if (e != FILLER) {
                        return (E) e;
                    }
                }
            } else if (seq < c + 1) {
                return null;
            }
        }
    }

    @Override
    public E relaxedPoll() {
        return poll();
    }

    @Override
    @SuppressWarnings("unchecked")
    public E peek() {
        Object[] buf = buffer;
        long[] seqs = sequences;
        int m = mask;
        for (;;) {
            long c = consumerIndex;
            int i = (int) c & m;
            long seq = (long) SEQUENCE.getAcquire(seqs, i);
            if (seq == c + 1) {
                Object e = SLOT.getAcquire(buf, i);
                if (e == FILLER) {
                    if (CONSUMER_INDEX.compareAndSet(this, c, c + 1)) {
                        buf[i] = null;
                        SEQUENCE.setRelease(seqs, i, c + m + 1);
                    }
                } else if (e != null && consumerIndex == c) {
                    return (E) e;
                }
            } else if (seq < c + 1) {
                return null;
            }
        }
    }

    @Override
    public E relaxedPeek() {
        return peek();
    }

    /**
     * Claims, with one CAS, the run of slots (up to {@value #BATCH}) that are free now, then publishes
     * into them in order; stops when no slot is free.
     */
    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        long[] seqs = sequences;
        int m = mask;
        int most = Math.min(BATCH, m + 1);
        int n = 0;
        while (n < limit) {
            int k = Math.min(limit - n, most);
            long p = producerIndex;
            int free = 0;
            while (free < k && (long) SEQUENCE.getAcquire(seqs, (int) (p + free) & m) == p + free) {
                free++;
            }
            if (free == 0) {
                if ((long) SEQUENCE.getAcquire(seqs, (int) p & m) < p) {
                    break; // full
                }
                continue; // another producer moved on; look again
            }
            if (PRODUCER_INDEX.compareAndSet(this, p, p + free)) {
                publish(supplier, p, free);
                n += free;
            }
        }
        return n;
    }

    /**
     * Publishes the supplier's next {@code k} elements into the claimed slots from {@code p}; if the
     * supplier fails, fillers go into the slots left so consumers do not wait for them.
     */
    private void publish(Supplier<? extends E> supplier, long p, int k) {
        Object[] buf = buffer;
        long[] seqs = sequences;
        int m = mask;
        long end = p + k;
        long q = p;
        try {
            for (; q < end; q++) {
                Object e = checkNotNull(supplier.get());
                int i = (int) q & m;
                SLOT.setRelease(buf, i, e);
                SEQUENCE.setRelease(seqs, i, q + 1);
            }
        } catch (RuntimeException | Error failure) {
            for (; q < end; q++) {
                int i = (int) q & m;
                SLOT.setRelease(buf, i, FILLER);
                SEQUENCE.setRelease(seqs, i, q + 1);
            }
            throw failure;
        }
    }

    /**
     * Claims, with one CAS, the run of elements (up to {@value #BATCH}) that are published now, and
     * hands them to the consumer in order; stops when none is. Every element claimed is handed over
     * even if the consumer throws; the first exception is rethrown at the end (later ones suppressed
     * into it).
     */
    @Override
    @SuppressWarnings("unchecked")
    public int drain(Consumer<? super E> consumer, int limit) {
        checkDrain(consumer, limit);
        Object[] buf = buffer;
        long[] seqs = sequences;
        int m = mask;
        int most = Math.min(BATCH, m + 1);
        int n = 0;
        Throwable failure = null;
        while (n < limit && failure == null) {
            int k = Math.min(limit - n, most);
            long c = consumerIndex;
            int ready = 0;
            while (ready < k && (long) SEQUENCE.getAcquire(seqs, (int) (c + ready) & m) == c + ready + 1) {
                ready++;
            }
            if (ready == 0) {
                if ((long) SEQUENCE.getAcquire(seqs, (int) c & m) < c + 1) {
                    break; // empty, or the next element is still being published
                }
                continue; // another consumer moved on; look again
            }
            if (!CONSUMER_INDEX.compareAndSet(this, c, c + ready)) {
                continue;
            }
            long end = c + ready;
            for (long q = c; q < end; q++) {
                int i = (int) q & m;
                Object e = buf[i]; // plain: the acquire of the sequence made the element visible
                buf[i] = null;
                SEQUENCE.setRelease(seqs, i, q + m + 1);
                if (e == FILLER) {
                    continue;
                }
                n++;
                try {
                    consumer.accept((E) e);
                } catch (RuntimeException | Error t) {
                    if (failure == null) {
                        failure = t;
                    } else {
                        failure.addSuppressed(t);
                    }
                }
            }
        }
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        } else if (failure != null) {
            throw (Error) failure;
        }
        return n;
    }
}
