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
 * @param <E> the element type
 */
public final class MpmcArrayQueue<E> extends BoundedArrayQueue<E> {

    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] sequences;

    /**
     * @param capacity at least 2, rounded up to a power of two
     */
    public MpmcArrayQueue(int capacity) {
        super(capacity);
        this.sequences = new long[capacity()];
        for (int i = 0; i < sequences.length; i++) {
            sequences[i] = i;
        }
        VarHandle.releaseFence();
    }

    /** Claims a slot for writing, or returns -1 when full. */
    private long claim() {
        for (;;) {
            long p = producerIndex;
            int i = (int) (p & mask);
            long seq = (long) SEQUENCE.getAcquire(sequences, i);
            if (seq == p) {
                if (PRODUCER_INDEX.compareAndSet(this, p, p + 1)) {
                    return p;
                }
            } else if (seq < p) {
                return -1;
            }
        }
    }

    private void publish(long p, Object e) {
        int i = (int) (p & mask);
        SLOT.setRelease(buffer, i, e);
        SEQUENCE.setRelease(sequences, i, p + 1);
    }

    @Override
    public boolean offer(E e) {
        checkNotNull(e);
        long p = claim();
        if (p < 0) {
            return false;
        }
        publish(p, e);
        return true;
    }

    @Override
    public boolean relaxedOffer(E e) {
        return offer(e);
    }

    @Override
    @SuppressWarnings("unchecked")
    public E poll() {
        for (;;) {
            long c = consumerIndex;
            int i = (int) (c & mask);
            long seq = (long) SEQUENCE.getAcquire(sequences, i);
            if (seq == c + 1) {
                if (CONSUMER_INDEX.compareAndSet(this, c, c + 1)) {
                    E e = (E) SLOT.getAcquire(buffer, i);
                    SLOT.setOpaque(buffer, i, null);
                    SEQUENCE.setRelease(sequences, i, c + capacity());
                    if (e != FILLER) {
                        return e;
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
        for (;;) {
            long c = consumerIndex;
            int i = (int) (c & mask);
            long seq = (long) SEQUENCE.getAcquire(sequences, i);
            if (seq == c + 1) {
                E e = (E) SLOT.getAcquire(buffer, i);
                if (e == FILLER) {
                    if (CONSUMER_INDEX.compareAndSet(this, c, c + 1)) {
                        SLOT.setOpaque(buffer, i, null);
                        SEQUENCE.setRelease(sequences, i, c + capacity());
                    }
                } else if (e != null && consumerIndex == c) {
                    return e;
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
        int n = 0;
        while (n < limit) {
            int k = Math.min(Math.min(limit - n, BATCH), capacity());
            long p = producerIndex;
            int m = 0;
            while (m < k && (long) SEQUENCE.getAcquire(sequences, (int) ((p + m) & mask)) == p + m) {
                m++;
            }
            if (m == 0) {
                if ((long) SEQUENCE.getAcquire(sequences, (int) (p & mask)) < p) {
                    break; // full
                }
                continue; // another producer moved on; look again
            }
            if (PRODUCER_INDEX.compareAndSet(this, p, p + m)) {
                publishAll(supplier, p, m, (e, at) -> publish(at, e));
                n += m;
            }
        }
        return n;
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
        int n = 0;
        Throwable failure = null;
        while (n < limit && failure == null) {
            int k = Math.min(Math.min(limit - n, BATCH), capacity());
            long c = consumerIndex;
            int m = 0;
            while (m < k && (long) SEQUENCE.getAcquire(sequences, (int) ((c + m) & mask)) == c + m + 1) {
                m++;
            }
            if (m == 0) {
                if ((long) SEQUENCE.getAcquire(sequences, (int) (c & mask)) < c + 1) {
                    break; // empty, or the next element is still being published
                }
                continue; // another consumer moved on; look again
            }
            if (!CONSUMER_INDEX.compareAndSet(this, c, c + m)) {
                continue;
            }
            for (long q = c; q < c + m; q++) {
                int i = (int) (q & mask);
                Object e = SLOT.getAcquire(buffer, i);
                SLOT.setOpaque(buffer, i, null);
                SEQUENCE.setRelease(sequences, i, q + capacity());
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
