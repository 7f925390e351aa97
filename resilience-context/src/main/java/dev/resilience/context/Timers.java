package dev.resilience.context;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The shared timer and the ticker-aware park. Nothing here runs unless somebody waits on or listens
 * to a context with a deadline: creating and cancelling contexts never touches the timer.
 */
final class Timers {

    /** A scheduled action that can be withdrawn. */
    interface Task {
        /** Withdraws the action; true if it had not run yet and now never will. */
        boolean cancel();
    }

    /** What a timer does when it fires; told whether it runs on the shared timer thread. */
    interface Action {
        void fire(boolean onTimerThread);
    }

    /**
     * Where {@code onDone} callbacks run by default: a thread each, as a goroutine each in Go, so a
     * callback that blocks holds up no other. Virtual threads where the JDK has them (21+), else up
     * to {@value #CALLBACK_THREADS} daemon platform threads (further callbacks queue; idle threads
     * retire after 30 s), which inherit no thread-locals from whoever cancelled.
     */
    static final Executor CALLBACK_EXECUTOR = callbackExecutor();

    /** The platform threads callbacks may hold at once before JDK 21. */
    static final int CALLBACK_THREADS = 256;

    /**
     * A deadline's propagation, handed off the timer thread: threads of its own (virtual threads from
     * JDK 21, else {@value #DEADLINE_THREADS} daemon platform threads, started on first use and kept),
     * so that neither a busy common pool (a parallel stream, tasks blocked in it: on 2 cores it has
     * one worker), nor user code started by a delayed action (a retry's next attempt), nor a user's
     * slow {@code onDone} callback holds a deadline back.
     */
    static final Executor DEADLINE_EXECUTOR = executor("resilience-context-deadline-", Timers.DEADLINE_THREADS, false);

    /** The platform threads deadline propagation runs on before JDK 21. */
    static final int DEADLINE_THREADS = 4;

    /**
     * A delayed action handed off the timer thread ({@link Delays#schedule}: a retry's backoff, a
     * hedge's delay), which may start user code: threads of its own, apart from the deadlines'
     * (virtual threads from JDK 21, else up to {@value #INTERNAL_THREADS} daemon platform threads
     * that retire after 30 s idle).
     */
    static final Executor INTERNAL_EXECUTOR = executor("resilience-context-internal-", Timers.INTERNAL_THREADS, true);

    /** The platform threads delayed actions may hold at once before JDK 21. */
    static final int INTERNAL_THREADS = 64;

    private static Executor callbackExecutor() {
        return executor("resilience-context-callback-", CALLBACK_THREADS, true);
    }

    /**
     * A virtual thread per task from JDK 21; before, up to {@code threads} daemon platform threads
     * (further tasks queue) that inherit no thread-locals, retiring after 30 s idle if {@code retire}.
     */
    private static Executor executor(String name, int threads, boolean retire) {
        try {
            return (Executor) java.util.concurrent.Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
                    .invoke(null);
        } catch (ReflectiveOperationException before21) {
            AtomicLong n = new AtomicLong();
            java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(threads,
                    threads, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(null, r, name + n.incrementAndGet(), 0, false);
                        t.setDaemon(true);
                        t.setContextClassLoader(Timers.class.getClassLoader()); // not the first caller's (a web app's)
                        return t;
                    });
            pool.allowCoreThreadTimeOut(retire);
            return pool;
        }
    }

    private Timers() {
    }

    /** Schedules {@code action} for when {@code ticker} reads {@code at} or later. */
    static Task schedule(Ticker ticker, long at, Action action) {
        if (ticker instanceof ManualTicker) {
            return ((ManualTicker) ticker).schedule(at, () -> action.fire(false));
        }
        SystemTask task = new SystemTask(ticker, at, action);
        task.arm(at - ticker.read());
        return task;
    }

    /**
     * Parks the current thread until {@code ticker} reads {@code wakeAt}, or until unparked (by a
     * context listener, another thread, or spuriously). {@code now} is a reading taken by the caller.
     */
    static void parkUntil(Ticker ticker, long wakeAt, long now, Object blocker) {
        if (ticker instanceof ManualTicker) {
            Thread self = Thread.currentThread();
            Task task = ((ManualTicker) ticker).schedule(wakeAt, () -> LockSupport.unpark(self));
            try {
                LockSupport.park(blocker);
            } finally {
                task.cancel();
            }
        } else {
            LockSupport.parkNanos(blocker, wakeAt - now);
        }
    }

    /** The number of actions queued on the shared timer thread; for leak tests. */
    static int pendingSystemTasks() {
        return Shared.SCHEDULER.getQueue().size();
    }

    /** Holder: the scheduler thread is created on first use only. */
    private static final class Shared {
        static final ScheduledThreadPoolExecutor SCHEDULER = create();
        static final AtomicLong THREADS = new AtomicLong();

        private static ScheduledThreadPoolExecutor create() {
            ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(null, r, "resilience-context-timer-" + THREADS.incrementAndGet(), 0, false);
                t.setDaemon(true);
                // The first caller may be a web app's thread: the shared timer must not pin its class loader.
                t.setContextClassLoader(Timers.class.getClassLoader());
                return t;
            });
            s.setRemoveOnCancelPolicy(true);
            s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            return s;
        }
    }

    /** A task on the shared timer; re-arms itself if a non-system ticker has not reached its time. */
    private static final class SystemTask implements Task, Runnable {
        private final Ticker ticker;
        private final long at;
        private final Action action;
        private volatile ScheduledFuture<?> future;
        private volatile boolean cancelled;

        SystemTask(Ticker ticker, long at, Action action) {
            this.ticker = ticker;
            this.at = at;
            this.action = action;
        }

        void arm(long delayNanos) {
            future = Shared.SCHEDULER.schedule(this, Math.max(0L, delayNanos), TimeUnit.NANOSECONDS);
            if (cancelled) {
                future.cancel(false);
            }
        }

        @Override
        public void run() {
            if (cancelled) {
                return;
            }
            long remaining = at - ticker.read();
            if (remaining > 0) {
                arm(remaining);
            } else {
                action.fire(true);
            }
        }

        @Override
        public boolean cancel() {
            cancelled = true;
            ScheduledFuture<?> f = future;
            return f != null && f.cancel(false);
        }
    }
}
