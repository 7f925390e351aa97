package dev.resilience.pool;

import dev.resilience.context.Context;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Threads parked until some condition may hold, for the module's blocking operations. The protocol
 * that avoids lost wake-ups: a waiter {@link #add}s itself, re-checks its condition, then
 * {@link #parkStep parks}; whoever makes the condition true does so first and then wakes.
 */
final class WaitList {

    /** Waits without a deadline of their own still wake this often to re-check (a safety net). */
    static final long UNTIMED = Long.MAX_VALUE;

    private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();

    void add(Thread t) {
        waiters.add(t);
    }

    void remove(Thread t) {
        waiters.remove(t);
    }

    boolean isEmpty() {
        return waiters.isEmpty();
    }

    /** Unparks the longest waiter, if any. Cheap when nobody waits. */
    void wakeOne() {
        if (!waiters.isEmpty()) {
            Thread t = waiters.peek();
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    void wakeAll() {
        for (Thread t : waiters) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Waits under the current context until {@code attempt} succeeds: registers the thread, then
     * alternates attempts and parks. Waking is the job of whoever makes an attempt able to succeed.
     *
     * @return true once an attempt succeeded, false when {@code until} passed first
     * @throws InterruptedException on interrupt (its status is cleared)
     * @throws dev.resilience.context.ContextDoneException when the current context ends first
     */
    boolean await(Ticker ticker, long until, BooleanSupplier attempt) throws InterruptedException {
        Context ctx = Context.current();
        Thread self = Thread.currentThread();
        add(self);
        try {
            for (;;) {
                if (attempt.getAsBoolean()) {
                    return true;
                }
                if (!parkStep(ctx, ticker, until)) {
                    return false;
                }
            }
        } finally {
            remove(self);
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
