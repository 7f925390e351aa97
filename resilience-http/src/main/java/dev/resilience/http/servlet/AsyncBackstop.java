package dev.resilience.http.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletRequest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Ends what an asynchronous request holds (a limiter permit, a context) when the container never
 * tells the filter that the request's async cycle ended.
 *
 * <p>The filters hand what they hold to an {@code AsyncListener}. A container that loses the
 * cycle's last event (Tomcat 11 was seen to: a client that leaves as an async stream starts) would
 * make them hold it for good. The backstop gives it back once the cycle's async timeout has passed
 * by a grace period with no event: a container fires {@code onTimeout} at the timeout, so by then
 * the event is lost. Before it ends an entry it asks the entry again for its cycle's timeout: an
 * application may lengthen it, and a container answers with {@link IllegalStateException} once the
 * request is over (Tomcat and Jetty do), which also means the event was lost. A cycle without a
 * timeout (zero or less) is not watched: nothing says when it should end.
 *
 * <p>Time is counted in ticks. The shared instance's daemon thread advances one tick per second
 * and visits every watched entry; it starts when an entry is armed and stops when none is left, so
 * an application without asynchronous requests has no such thread. Tests make instances whose
 * ticks they advance themselves ({@link #sweep()}).
 *
 * <p>Cost on the request path: one CAS to arm an entry (the entry is the listener the filter
 * allocates anyway, linked into an intrusive stack); no lock, no clock read. The thread's tick visits
 * every watched entry, so it costs one pass over the asynchronous requests in flight per second.
 */
final class AsyncBackstop {

    /** The instance the filters use: one tick per second, five ticks of grace. */
    static final AsyncBackstop SHARED = new AsyncBackstop(TimeUnit.SECONDS.toNanos(1), 5, true);

    private static final System.Logger LOG = System.getLogger("dev.resilience.http.servlet");
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
     * @param graceTicks the ticks after a cycle's timeout before its entry counts as lost
     * @param automatic whether a thread advances the ticks (else the caller calls {@link #sweep()})
     */
    AsyncBackstop(long tickNanos, long graceTicks, boolean automatic) {
        this.tickNanos = tickNanos;
        this.graceTicks = graceTicks;
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
        /** The tick at which the current async cycle started. */
        private volatile long startTick;
        /** The tick at which the sweeper looks at this entry again. */
        private volatile long dueTick;
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
         * The current cycle's async timeout in milliseconds, zero or less for none.
         *
         * @throws RuntimeException if the container says the request is over (the event was lost)
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
    static void countLost(java.util.concurrent.atomic.AtomicLong counter, String filter, String gaveBack) {
        if (counter.incrementAndGet() == 1) {
            LOG.log(System.Logger.Level.WARNING, "the container never ended an asynchronous request's cycle; "
                    + filter + " " + gaveBack + " 5 s after its async timeout (counted in " + filter
                    + ".lostAsyncCycles(); logged once)");
        }
    }

    /**
     * Adds {@code e} to the listeners of {@code request}'s async cycle and watches it; called when
     * the dispatch that started the cycle returns, so the cycle's timeout is the one it will have.
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
        long timeout;
        try {
            timeout = async.getTimeout();
        } catch (IllegalStateException ended) { // over already: the listener has heard
            return true;
        }
        arm(e, timeout);
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

    /**
     * Watches {@code e}, whose async cycle just began its wait with {@code timeoutMillis}; does
     * nothing if there is no timeout.
     */
    void arm(Entry e, long timeoutMillis) {
        if (timeoutMillis <= 0) {
            return;
        }
        long now = tick;
        e.startTick = now;
        e.dueTick = due(now, timeoutMillis);
        push(e);
    }

    /**
     * A new async cycle of {@code e}'s request began ({@code onStartAsync}): its timeout is not
     * final yet, so the sweeper asks for it again within the grace period.
     */
    void newCycle(Entry e) {
        long now = tick;
        e.startTick = now;
        if ((int) LISTED.getVolatile(e) == 0) {
            e.dueTick = sat(now + graceTicks);
            push(e);
        }
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
            } catch (RuntimeException | Error t) { // its end threw (a bug): it is ended or never will be; go on
                LOG.log(System.Logger.Level.WARNING, "the async backstop could not end an entry", t);
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
        long timeout;
        try {
            timeout = e.timeoutMillis();
        } catch (RuntimeException over) { // the container says the request is over: the end was lost
            return e.endLost();
        }
        if (timeout <= 0) {
            return false; // the application took the timeout away: nothing says when to end it
        }
        long due = due(e.startTick, timeout);
        if (now < due) { // lengthened, or a new cycle
            e.dueTick = due;
            push(e);
            return false;
        }
        return e.endLost();
    }

    /** The tick after which a cycle that started at {@code start} with this timeout is lost. */
    private long due(long start, long timeoutMillis) {
        long ms = tickNanos / 1_000_000L;
        long ticks = ms <= 0 ? timeoutMillis : timeoutMillis / ms + (timeoutMillis % ms == 0 ? 0 : 1);
        return sat(sat(start + ticks) + graceTicks);
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
            LOG.log(System.Logger.Level.WARNING, "could not start the async backstop's thread", e);
        }
    }

    private void run() {
        long next = System.nanoTime();
        for (;;) {
            next += tickNanos;
            for (long left; (left = next - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(this, left); // a late wake makes ticks longer: entries end later, never sooner
            }
            sweep();
            if (head == null) {
                running = 0;
                if (head == null || !RUNNING.compareAndSet(this, 0, 1)) {
                    return; // the next arm starts a new thread
                }
            }
        }
    }
}
