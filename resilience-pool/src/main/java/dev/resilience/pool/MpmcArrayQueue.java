package dev.resilience.pool;

import dev.resilience.context.internal.Suppression;
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
        storeBeforeRelease(buffer, i, e);
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
                Object e = loadAcquire(buf, i);
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
     * Claims, with one CAS, the run of slots (up to {@value #BATCH}, ending where the ring wraps) that
     * are free now, then publishes into them in order; stops when no slot is free.
     */
    @Override
    public int fill(Supplier<? extends E> supplier, int limit) {
        checkFill(supplier, limit);
        long[] seqs = sequences;
        int m = mask;
        int n = 0;
        while (n < limit) {
            long p = producerIndex;
            int from = (int) p & m;
            int to = Math.min(from + Math.min(limit - n, BATCH), m + 1);
            long base = p - from; // slot i is free for index base + i when its sequence is that
            int i = from;
            while (i < to && (long) SEQUENCE.getAcquire(seqs, i) == base + i) {
                i++;
            }
            if (i == from) {
                if ((long) SEQUENCE.getAcquire(seqs, from) < p) {
                    break; // full
                }
                continue; // another producer moved on; look again
            }
            if (PRODUCER_INDEX.compareAndSet(this, p, base + i)) {
                publish(supplier, base, from, i);
                n += i - from;
            }
        }
        return n;
    }

    /**
     * Publishes the supplier's next elements into the claimed slots {@code from .. to - 1} (of indexes
     * {@code base + from ..}); if the supplier fails, fillers go into the slots left so consumers do
     * not wait for them.
     */
    private void publish(Supplier<? extends E> supplier, long base, int from, int to) {
        Object[] buf = buffer;
        long[] seqs = sequences;
        int i = from;
        try {
            for (; i < to; i++) {
                Object e = checkNotNull(supplier.get());
                storeBeforeRelease(buf, i, e);
                SEQUENCE.setRelease(seqs, i, base + i + 1);
            }
        } catch (Throwable failure) {
            for (; i < to; i++) {
                SLOT.setRelease(buf, i, FILLER);
                SEQUENCE.setRelease(seqs, i, base + i + 1);
            }
            throw failure;
        }
    }

    /**
     * Claims, with one CAS, the run of elements (up to {@value #BATCH}, ending where the ring wraps)
     * that are published now, and hands them to the consumer in order; stops when none is. Every
     * element claimed is handed over even if the consumer throws; the first exception is rethrown at
     * the end, as it was thrown (a checked exception thrown past {@code accept}'s signature too), with
     * up to four later ones suppressed into it (none that is the same instance again, its cause or one
     * it holds already).
     */
    @Override
    @SuppressWarnings("unchecked")
    public int drain(Consumer<? super E> consumer, int limit) {
        checkDrain(consumer, limit);
        Object[] buf = buffer;
        long[] seqs = sequences;
        int m = mask;
        int n = 0;
        Throwable failure = null;
        while (n < limit && failure == null) {
            long c = consumerIndex;
            int from = (int) c & m;
            int to = Math.min(from + Math.min(limit - n, BATCH), m + 1);
            long base = c - from; // slot i holds the element of index base + i when its sequence is one more
            int i = from;
            while (i < to && (long) SEQUENCE.getAcquire(seqs, i) == base + i + 1) {
                i++;
            }
            if (i == from) {
                if ((long) SEQUENCE.getAcquire(seqs, from) < c + 1) {
                    break; // empty, or the next element is still being published
                }
                continue; // another consumer moved on; look again
            }
            if (!CONSUMER_INDEX.compareAndSet(this, c, base + i)) {
                continue;
            }
            long nextLap = base + m + 1;
            for (int j = from; j < i; j++) {
                Object e = buf[j]; // plain: the acquire of the sequence made the element visible
                buf[j] = null; // plain: the next producer learns of the free slot from the sequence
                SEQUENCE.setRelease(seqs, j, nextLap + j);
                if (e == FILLER) {
                    continue;
                }
                n++;
                try {
                    consumer.accept((E) e);
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    } else {
                        // never throws (self-suppression would, and leave the rest of the claimed run
                        // unreleased), and a constant thrown again and again is not grown without bound
                        Suppression.attach(failure, t);
                    }
                }
            }
        }
        if (failure != null) {
            throw Suppression.rethrow(failure); // as the consumer threw it, checked or not
        }
        return n;
    }
}
