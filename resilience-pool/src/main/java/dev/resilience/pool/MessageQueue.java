package dev.resilience.pool;

import java.util.Queue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A bounded, lock-free queue for passing messages between threads, in the style of JCTools'
 * {@code MessagePassingQueue}. The implementing class's name states who may call what:
 * {@link SpscArrayQueue} (one producer, one consumer), {@link MpscArrayQueue} (many producers, one
 * consumer), {@link MpmcArrayQueue} (many of each).
 *
 * <pre>{@code
 * MessageQueue<Order> q = new MpscArrayQueue<>(1024);
 * if (!q.offer(order)) { reject(order); }      // producers: false when full, never blocks
 * q.drain(this::process, 32);                   // the consumer: up to 32 at a time
 * }</pre>
 *
 * <p>Nulls are rejected. {@link #size()} is an estimate (never negative, never above the
 * capacity); iteration is weakly consistent and for monitoring only. The {@code relaxed} methods
 * may report full or empty spuriously while another thread is between its two steps, in exchange for
 * never spinning.
 *
 * @param <E> the element type
 */
public interface MessageQueue<E> extends Queue<E> {

    /** The fixed capacity: the requested one rounded up to a power of two. */
    int capacity();

    /** Like {@link #offer} but may fail while the queue is not quite full. */
    boolean relaxedOffer(E e);

    /** Like {@link #poll} but may return null while an element is being published. */
    E relaxedPoll();

    /** Like {@link #peek} but may return null while an element is being published. */
    E relaxedPeek();

    /**
     * Moves up to {@code limit} elements to {@code consumer}, claiming them in batches where the queue
     * allows (one index update per batch instead of one per element); returns how many. Like
     * {@link #relaxedPoll()} it may stop early while an element is being published. If the consumer
     * throws, single-consumer queues stop there (the element it threw on counts as taken); an
     * {@link MpmcArrayQueue} first hands over the rest of the batch it claimed, then rethrows.
     */
    int drain(Consumer<? super E> consumer, int limit);

    /** Moves all available elements to {@code consumer}; returns how many. */
    default int drain(Consumer<? super E> consumer) {
        return drain(consumer, Integer.MAX_VALUE);
    }

    /**
     * Offers up to {@code limit} elements from {@code supplier} while there is room, claiming slots in
     * batches where the queue allows; returns how many. The supplier is called only for slots already
     * claimed; if it throws, the claimed slots left are skipped by consumers and the exception propagates.
     */
    int fill(Supplier<? extends E> supplier, int limit);

    /** Offers elements from {@code supplier} until the queue is full; returns how many. */
    default int fill(Supplier<? extends E> supplier) {
        return fill(supplier, capacity());
    }
}
