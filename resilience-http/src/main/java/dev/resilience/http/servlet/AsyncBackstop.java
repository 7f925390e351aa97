package dev.resilience.http.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletRequest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Ends what an asynchronous request holds (a limiter permit, a context) when the container never
 * tells the filter that the request's async cycle ended.
 *
 * <p>The filters hand what they hold to an {@code AsyncListener}. A container that loses the
 * cycle's last event (Tomcat 11 was seen to lose some: a client that leaves as an async stream
 * starts) would make them hold it for good. The backstop ends an entry only when the container
 * says the request is over although no event came: {@code AsyncContext.getTimeout()} throws
 * {@link IllegalStateException} once the request has ended and its objects were recycled (Tomcat
 * does, and fires {@code onComplete} before that). Tomcat also throws it to threads of its own
 * from the moment an application listener's {@code onError} has returned until the request ends;
 * the filters' own {@code onError} comes in the same loop and ends their entries, so an entry
 * ends only after two such answers, one grace period apart, with no other answer between: an
 * application's {@code onError} that blocks longer than that would make the backstop count a
 * lost cycle that was not (the entry is then given back without its sample). A request the
 * container keeps without ever ending it (not recycled) is not seen. Time alone never ends an
 * entry: a request may run long past its async timeout (Tomcat does not time out an async
 * dispatch while it runs; a stream may have no timeout at all) and keeps what it holds.
 *
 * <p>Every entry is asked once per grace period, whatever its cycle's timeout, so a lost end is
 * found one to two grace periods (and up to a tick) after the request ended, later if the thread
 * is held up. Time is counted in ticks: the shared
 * instance's daemon thread advances one tick per second and visits every watched entry (a tick
 * costs one pass over the asynchronous requests in flight, and a {@code getTimeout()} per entry
 * every 5 s); it starts when an entry is armed and stops after a minute with nothing to watch, so
 * an application without asynchronous requests has no such thread. What an entry gives back when
 * it is lost runs on that thread. Tests make instances whose ticks they advance themselves
 * ({@link #sweep()}).
 *
 * <p>Cost on the request path: two CASes to arm an entry (the entry is the listener the filter
 * allocates anyway, linked into an intrusive stack), and a thread start when none runs; no lock, no
 * clock read.
 */
final class AsyncBackstop {

    /** Ticks with nothing to watch after which the automatic thread stops. */
    private static final int IDLE_TICKS = 60;
    /** The instance the filters use: one tick per second, five ticks of grace. */
    static final AsyncBackstop SHARED = new AsyncBackstop(TimeUnit.SECONDS.toNanos(1), 5, true);

    private static final System.Logger LOG = System.getLogger("dev.resilience.http.servlet");
    /** The lost cycles' own logger, so that tests which lose events on purpose can quiet it alone. */
    private static final System.Logger LOST_LOG = System.getLogger("dev.resilience.http.servlet.lost");
    /** Answers "over" in a row, a grace period apart, that end an entry. */
    private static final int STRIKES = 2;
    private static final VarHandle HEAD;
    private static final VarHandle RUNNING;
    private static final VarHandle LISTED;
    private static final VarHandle ENDED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(AsyncBackstop.class, "head", Entry.class);
            RUNNING = l.findVarHandle(AsyncBackstop.class, "running", int.class);
            LISTED = l.findVarHandle(Entry.class, "listed", int.class);
            ENDED = l.findVarHandle(Entry.class, "ended", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long tickNanos;
    private final long graceTicks;
    private final boolean automatic;
    /** The watched entries: a Treiber stack pushed by any thread, taken whole by the sweeper. */
    private volatile Entry head;
    /** Ticks so far; written only by the one sweeper. */
    private volatile long tick;
    /** 1 while the automatic thread runs (or is starting). */
    private volatile int running;

    /**
     * @param tickNanos the length of a tick for the automatic thread
     * @param graceTicks the ticks between two questions to the container about an entry (at least 1)
     * @param automatic whether a thread advances the ticks (else the caller calls {@link #sweep()})
     */
    AsyncBackstop(long tickNanos, long graceTicks, boolean automatic) {
        this.tickNanos = tickNanos;
        this.graceTicks = Math.max(1, graceTicks);
        this.automatic = automatic;
    }

    /**
     * What a filter holds for one asynchronous request; the filter's {@code AsyncListener}. An entry
     * is on the stack at most once ({@link #listed}).
     */
    abstract static class Entry implements AsyncListener {
        /** The next entry on the stack; read by the sweeper before it unlists this one. */
        private Entry next;
        /** 1 while on the stack; only a CAS from 0 pushes. */
        @SuppressWarnings("unused") // through LISTED
        private volatile int listed;
        /** The tick at which the sweeper asks about this entry again. */
        private volatile long dueTick;
        /** Answers "over" in a row within cycle {@link #strikeCycle}; reset by any other answer. */
        private volatile int strikes;
        /** The cycle the strikes were counted in; written, like them, only by the sweeper. */
        private volatile int strikeCycle;
        /** Async cycles started after the first; strikes of an earlier cycle do not count. */
        private volatile int cycles;
        /** The current cycle's context, to ask for its timeout. */
        private volatile AsyncContext async;
        /** 1 once an event or the backstop ended the entry (through ENDED). */
        private volatile int ended;

        /** Whether this call is the first end, an event's or the backstop's: only the first counts. */
        final boolean firstEnd() {
            return ENDED.compareAndSet(this, 0, 1);
        }

        /** Gives back what the filter holds, because the cycle's end was never heard. */
        abstract void giveBack();

        /**
         * Asks the container about the request: the current cycle's async timeout.
         *
         * @throws IllegalStateException if the container says the request is over
         */
        long timeoutMillis() {
            return async.getTimeout();
        }

        /** Whether an event (or the backstop) has already ended this entry. */
        boolean ended() {
            return ended != 0;
        }

        /**
         * Ends the entry because its cycle's end was never heard; true if this call ended it (an
         * event may have ended it first).
         */
        boolean endLost() {
            if (!firstEnd()) {
                return false;
            }
            giveBack();
            return true;
        }
    }

    /**
     * Counts a lost cycle in a filter's {@code counter}; the first one is logged at WARNING (no
     * request data: the filter and what it gave back).
     */
    static void countLost(AtomicLong counter, String filter, String gaveBack) {
        if (counter.incrementAndGet() == 1) {
            log(LOST_LOG, "the container never ended an asynchronous request's cycle; "
                    + filter + " " + gaveBack + " once the container said the request was over (counted in " + filter
                    + ".lostAsyncCycles(); logged once)", null);
        }
    }

    /** Logs at WARNING; a logging backend that throws must not stop the backstop. */
    private static void log(System.Logger logger, String message, Throwable t) {
        try {
            logger.log(System.Logger.Level.WARNING, message, t);
        } catch (Throwable ignored) { // nothing left to tell it to
            // the entries matter more than the log line
        }
    }

    /**
     * Adds {@code e} to the listeners of {@code request}'s async cycle and watches it; called when
     * the dispatch that started the cycle returns.
     *
     * @return false if the cycle has already ended (the listener was not added)
     */
    boolean listen(ServletRequest request, Entry e) {
        AsyncContext async;
        try {
            async = request.getAsyncContext();
            async.addListener(e);
        } catch (IllegalStateException ended) {
            return false;
        }
        e.async = async;
        arm(e);
        return true;
    }

    /**
     * Stays on for the new async cycle that {@code event} reports (a new cycle drops the listeners
     * of the last one); for {@link AsyncListener#onStartAsync}.
     */
    void onStartAsync(AsyncEvent event, Entry e) {
        AsyncContext next = event.getAsyncContext();
        next.addListener(e);
        e.async = next;
        newCycle(e);
    }

    /** Watches {@code e}: first asked about one tick and a grace period from now. */
    void arm(Entry e) {
        e.dueTick = sat(tick + 1 + graceTicks);
        push(e);
    }

    /**
     * A new async cycle of {@code e}'s request began ({@code onStartAsync}): the request is live,
     * so earlier "over" answers no longer count.
     */
    void newCycle(Entry e) {
        e.cycles++; // onStartAsync: one container thread at a time per request
        push(e); // a no-op while it is on the stack, as it is unless it ended
    }

    private void push(Entry e) {
        if (!LISTED.compareAndSet(e, 0, 1)) {
            return; // on the stack already: the sweeper will read its new ticks
        }
        Entry h;
        do {
            h = head;
            e.next = h;
        } while (!HEAD.compareAndSet(this, h, e));
        if (automatic && running == 0 && RUNNING.compareAndSet(this, 0, 1)) {
            start();
        }
    }

    /**
     * Advances one tick and visits every watched entry: drops the ended ones, ends the lost ones.
     * One sweeper at a time (the thread, or a test).
     *
     * @return how many entries this sweep ended as lost
     */
    int sweep() {
        long now = tick + 1;
        tick = now;
        Entry e = (Entry) HEAD.getAndSet(this, null);
        int lost = 0;
        while (e != null) {
            Entry next = e.next;
            e.next = null;
            LISTED.setVolatile(e, 0); // after reading next: a push from now on links it afresh
            try {
                if (visit(e, now)) {
                    lost++;
                }
            } catch (Throwable t) { // its give-back threw (a bug): it is ended; the rest are still visited
                log(LOG, "the async backstop could not end an entry", t);
            }
            e = next;
        }
        return lost;
    }

    private boolean visit(Entry e, long now) {
        if (e.ended()) {
            return false;
        }
        if (now < e.dueTick) {
            push(e);
            return false;
        }
        int cycle = e.cycles;
        try {
            e.timeoutMillis();
            e.strikes = 0; // live as far as the container knows
        } catch (IllegalStateException over) { // the request is over, or the container is telling of an error
            int strikes = (e.strikeCycle == cycle ? e.strikes : 0) + 1; // a new cycle forgets the earlier ones
            e.strikes = strikes;
            e.strikeCycle = cycle;
            if (strikes >= STRIKES && e.cycles == cycle) {
                return e.endLost();
            }
        } catch (Throwable unknown) { // not an answer (a wrapper's own exception): as a live one, ask again later
            e.strikes = 0;
        }
        e.dueTick = sat(now + graceTicks);
        push(e);
        return false;
    }

    /** {@code v}, or {@link Long#MAX_VALUE} if the addition that made it overflowed. */
    private static long sat(long v) {
        return v < 0 ? Long.MAX_VALUE : v;
    }

    /** How many entries are watched (a test's view; walks the stack). */
    int watched() {
        int n = 0;
        for (Entry e = head; e != null; e = e.next) {
            n++;
        }
        return n;
    }

    /** Whether {@code e} is watched (a test's view; walks the stack). */
    boolean contains(Entry e) {
        for (Entry x = head; x != null; x = x.next) {
            if (x == e) {
                return true;
            }
        }
        return false;
    }

    /** Ticks so far (a test's view). */
    long ticks() {
        return tick;
    }

    /** Whether the automatic thread is running. */
    boolean running() {
        return running == 1;
    }

    private void start() {
        try {
            Thread t = new Thread(null, this::run, "resilience-async-backstop", 0, false);
            t.setDaemon(true);
            t.setContextClassLoader(null);
            t.start();
        } catch (Throwable e) { // no thread now (out of native threads?): the next arm tries again
            running = 0;
            log(LOG, "could not start the async backstop's thread; the next asynchronous request tries again", e);
        }
    }

    private void run() {
        long next = System.nanoTime();
        int idle = 0;
        for (;;) {
            next += tickNanos;
            for (long left; (left = next - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(this, left);
                Thread.interrupted(); // an interrupt must not turn the park into a spin
            }
            next = Math.max(next, System.nanoTime()); // after a pause, one tick, not a burst of them
            try {
                sweep();
            } catch (Throwable t) { // sweep guards each entry; anything else (out of memory): keep the thread
                // the entries still need it
            }
            idle = head == null ? idle + 1 : 0;
            if (idle >= IDLE_TICKS) {
                running = 0;
                if (head == null || !RUNNING.compareAndSet(this, 0, 1)) {
                    return; // the next arm starts a new thread
                }
                idle = 0;
            }
        }
    }
}
