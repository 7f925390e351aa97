package dev.resilience.pool;

import dev.resilience.context.Context;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Threads parked until some condition may hold, for the module's blocking operations.
 *
 * <p>The protocol that loses no wake-up: a waiter {@link #enter}s (gets a node in the list),
 * re-checks its condition, then parks; whoever makes the condition true does so first and then
 * wakes. A wake-up <em>signals</em> one node: it takes the node off the list and marks it, so two
 * wake-ups never go to the same waiter while another one sleeps. A signalled waiter that no longer
 * needs the wake-up (it already succeeded, gave up, or failed) passes it on when it {@link #leave}s;
 * one that goes on waiting enters again (a new node) before it re-checks.
 */
final class WaitList {

    /** Waits without a deadline of their own still wake this often to re-check (a safety net). */
    static final long UNTIMED = Long.MAX_VALUE;

    private static final int WAITING = 0;
    private static final int SIGNALLED = 1;
    private static final int LEFT = 2;
    private static final VarHandle NODE_STATE;

    static {
        try {
            NODE_STATE = MethodHandles.lookup().findVarHandle(Node.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One wait of one thread. */
    static final class Node {
        final Thread thread;
        volatile int state;

        Node(Thread thread) {
            this.thread = thread;
        }

        /** Whether a wake-up was given to this node (it is then off the list). */
        boolean signalled() {
            return state == SIGNALLED;
        }
    }

    private final ConcurrentLinkedQueue<Node> waiters = new ConcurrentLinkedQueue<>();

    /** Registers {@code t} as waiting; the caller must {@link #leave} the node. */
    Node enter(Thread t) {
        Node n = new Node(t);
        waiters.add(n);
        return n;
    }

    /**
     * Ends a wait.
     *
     * @return true if the node had been signalled: the caller holds a wake-up it must use or pass on
     */
    boolean leave(Node n) {
        if (NODE_STATE.compareAndSet(n, WAITING, LEFT)) {
            waiters.remove(n);
            return false;
        }
        return n.state == SIGNALLED;
    }

    boolean isEmpty() {
        return waiters.isEmpty();
    }

    /** Signals and unparks the longest waiter, if any. Cheap when nobody waits. */
    void wakeOne() {
        Node n;
        while ((n = waiters.poll()) != null) {
            if (NODE_STATE.compareAndSet(n, WAITING, SIGNALLED)) {
                LockSupport.unpark(n.thread);
                return;
            }
        }
    }

    /** Signals and unparks every waiter. */
    void wakeAll() {
        Node n;
        while ((n = waiters.poll()) != null) {
            if (NODE_STATE.compareAndSet(n, WAITING, SIGNALLED)) {
                LockSupport.unpark(n.thread);
            }
        }
    }

    /**
     * Waits under the current context until {@code attempt} succeeds: registers the thread, then
     * alternates attempts and parks. Waking is the job of whoever makes an attempt able to succeed. A
     * wake-up this thread was given and did not need (it succeeded anyway, or gives up, or the
     * attempt threw) goes to the next waiter.
     *
     * @return true once an attempt succeeded, false when {@code until} passed first
     * @throws InterruptedException on interrupt (its status is cleared)
     * @throws dev.resilience.context.ContextDoneException when the current context ends first
     */
    boolean await(Ticker ticker, long until, BooleanSupplier attempt) throws InterruptedException {
        Context ctx = Context.current();
        Thread self = Thread.currentThread();
        Node me = enter(self);
        try {
            for (;;) {
                if (attempt.getAsBoolean()) {
                    return true;
                }
                if (me.state != WAITING) {
                    // Woken (during the attempt, or by the park before it): off the list. Enter
                    // again and look once more before parking; code inside the attempt may even
                    // have used up the unpark, so parking now could sleep through the wake-up.
                    me = enter(self);
                    continue;
                }
                if (!parkStep(ctx, ticker, until)) {
                    return false;
                }
            }
        } finally {
            if (leave(me)) {
                wakeOne();
            }
        }
    }

    /** The ticker reading {@code timeoutNanos} from now, or {@link #UNTIMED} for a huge timeout. */
    static long until(Ticker ticker, long timeoutNanos) {
        return until(ticker.read(), timeoutNanos);
    }

    /** {@code d} in nanoseconds, saturated at the ends of {@code long} instead of overflowing. */
    static long saturatedNanos(java.time.Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException overflow) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** {@code timeoutNanos} after {@code now}, or {@link #UNTIMED} for a huge timeout. */
    static long until(long now, long timeoutNanos) {
        return timeoutNanos >= Long.MAX_VALUE / 2 ? UNTIMED : now + timeoutNanos;
    }

    /**
     * Parks once under {@code ctx}: false when {@code until} has passed (never for {@link #UNTIMED});
     * true after a wake-up, to re-check the condition.
     *
     * @throws InterruptedException on interrupt (its status is cleared)
     * @throws dev.resilience.context.ContextDoneException when the context ends first
     */
    static boolean parkStep(Context ctx, Ticker ticker, long until) throws InterruptedException {
        WaitResult r = until == UNTIMED
                ? ctx.parkUntil(ticker, ticker.read() + Long.MAX_VALUE / 4)
                : ctx.parkUntil(ticker, until);
        switch (r) {
            case INTERRUPTED:
                Thread.interrupted();
                throw new InterruptedException("interrupted while waiting");
            case CANCELLED:
            case DEADLINE_EXCEEDED:
                ctx.throwIfDone();
                return false;
            case ELAPSED:
                return until == UNTIMED;
            default:
                return true;
        }
    }
}
