package dev.resilience.pool;

import dev.resilience.context.Context;
import dev.resilience.context.Ticker;
import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link BlockingQueue} over one of our lock-free queues: {@code put}/{@code take} and the timed
 * {@code offer}/{@code poll} wait by parking (never by spinning without bound, never with
 * {@code synchronized}) and honour the current {@link Context}: a wait never outlasts the context's
 * deadline and ends at once when the context is cancelled.
 *
 * <pre>{@code
 * BlockingQueue<Job> jobs = new BlockingMessageQueue<>(new MpmcArrayQueue<>(1024));
 * try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(1)); Scope s = h.attach()) {
 *     Job next = jobs.take();        // DeadlineExceededException after 1 s of nothing
 * }
 * }</pre>
 *
 * <p>Untimed {@code put}/{@code take} throw the context's exception
 * ({@link dev.resilience.context.ContextDoneException}) when it ends during the wait; the timed forms
 * return false/null when their own timeout is reached first, as {@code BlockingQueue} specifies, and
 * throw the context's exception when the context ends first. Interrupts throw
 * {@link InterruptedException}. The producer/consumer contract of the wrapped queue still applies
 * (wrap an {@link MpmcArrayQueue} for many of each).
 *
 * @param <E> the element type
 */
public final class BlockingMessageQueue<E> extends AbstractQueue<E> implements BlockingQueue<E> {

    private final MessageQueue<E> queue;
    private final Ticker ticker;
    private final WaitList waitingTakers = new WaitList();
    private final WaitList waitingPutters = new WaitList();

    /** Wraps {@code queue}, timing waits on the system ticker. */
    public BlockingMessageQueue(MessageQueue<E> queue) {
        this(queue, Ticker.system());
    }

    /** Wraps {@code queue}, timing waits on {@code ticker}. */
    public BlockingMessageQueue(MessageQueue<E> queue, Ticker ticker) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    @Override
    public boolean offer(E e) {
        if (queue.offer(e)) {
            waitingTakers.wakeOne();
            return true;
        }
        return false;
    }

    @Override
    public E poll() {
        E e = queue.poll();
        if (e != null) {
            waitingPutters.wakeOne();
        }
        return e;
    }

    @Override
    public E peek() {
        return queue.peek();
    }

    @Override
    public void put(E e) throws InterruptedException {
        Objects.requireNonNull(e, "e");
        if (!offerUntil(e, Long.MAX_VALUE)) {
            throw new IllegalStateException("unreachable: an untimed put ended without a result");
        }
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(e, "e");
        return offerUntil(e, nanos(timeout, unit));
    }

    @Override
    public E take() throws InterruptedException {
        return pollUntil(Long.MAX_VALUE);
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        return pollUntil(nanos(timeout, unit));
    }

    private static long nanos(long timeout, TimeUnit unit) {
        Objects.requireNonNull(unit, "unit");
        return Math.max(0L, unit.toNanos(timeout));
    }

    private boolean offerUntil(E e, long timeoutNanos) throws InterruptedException {
        if (offer(e)) {
            return true;
        }
        try {
            return waitingPutters.await(ticker, WaitList.until(ticker, timeoutNanos), () -> offer(e));
        } finally {
            if (queue.size() < queue.capacity()) {
                waitingPutters.wakeOne();
            }
        }
    }

    private E pollUntil(long timeoutNanos) throws InterruptedException {
        E e = poll();
        if (e != null) {
            return e;
        }
        Object[] taken = new Object[1];
        try {
            waitingTakers.await(ticker, WaitList.until(ticker, timeoutNanos), () -> (taken[0] = poll()) != null);
            @SuppressWarnings("unchecked")
            E result = (E) taken[0];
            return result;
        } finally {
            if (!queue.isEmpty()) {
                waitingTakers.wakeOne();
            }
        }
    }

    @Override
    public int remainingCapacity() {
        return queue.capacity() - queue.size();
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        Objects.requireNonNull(c, "c");
        if (c == this) {
            throw new IllegalArgumentException("cannot drain a queue into itself");
        }
        if (maxElements <= 0) {
            return 0; // as the JDK's blocking queues do
        }
        int n;
        try {
            n = queue.drain(c::add, maxElements);
        } catch (Throwable e) {
            // c.add threw after some elements left the queue: the room they made is real, so the
            // putters waiting for it are told all the same (each re-checks and waits again if full)
            waitingPutters.wakeAll();
            throw e;
        }
        for (int i = 0; i < n; i++) {
            waitingPutters.wakeOne();
        }
        return n;
    }

    @Override
    public Iterator<E> iterator() {
        return queue.iterator();
    }

    @Override
    public int size() {
        return queue.size();
    }

    @Override
    public String toString() {
        return "BlockingMessageQueue[" + queue + "]";
    }
}
