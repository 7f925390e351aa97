package dev.resilience.pool;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.AttachedTask;
import dev.resilience.context.internal.Listeners;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed number of worker threads (platform or virtual) taking tasks from a bounded
 * {@link MpmcArrayQueue}: the seeds' goroutine pool, usable as an
 * {@link java.util.concurrent.ExecutorService}.
 *
 * <pre>{@code
 * WorkerPool workers = WorkerPool.builder().threads(8).queueCapacity(1024)
 *         .rejection(WorkerPool.Rejection.WAIT)          // back-pressure, bounded by the context
 *         .build();
 * try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
 *     workers.execute(() -> handle(request));            // runs under this context
 * }
 * workers.shutdown();
 * workers.awaitTermination(Duration.ofSeconds(10));
 * }</pre>
 *
 * <p><b>Contexts.</b> A task runs with the submitter's {@link Context} attached; if that context is
 * already done when a worker picks the task up, the task is skipped (counted in {@link #skipped()})
 * instead of run; a task from {@code submit} is then cancelled (its {@code get()} throws
 * {@link java.util.concurrent.CancellationException}), and a {@link CompletableFuture}'s own async
 * task ({@code supplyAsync(..., pool)}) runs anyway, with the done context attached, since nothing
 * else would ever complete its future. Submitting from the background context costs no allocation.
 *
 * <p><b>Full backlog.</b> {@link #offer(Runnable)} returns false; {@link #execute(Runnable)} applies
 * the {@link Rejection} policy: {@code REJECT} throws {@link RejectedExecutionException},
 * {@code CALLER_RUNS} runs the task on the submitting thread, {@code WAIT} parks until there is room,
 * at most the submit timeout (default 30 s) and never past the submitter's context.
 *
 * <p><b>Failures.</b> An exception thrown by a task is contained (the worker goes on), counted in
 * {@link #failed()} and passed to {@link Listener#onTaskFailed} (logged as a warning, unless a listener takes failures, through
 * {@link System.Logger}). Tasks submitted through {@code submit} keep their exception in their future,
 * as with any {@code ExecutorService}. A listener that throws is logged and ignored: it never stops a
 * worker, loses a task or changes what the submitter sees.
 *
 * <p><b>Liveness.</b> Each task queued wakes a distinct idle worker, so a task never waits while a
 * worker is idle; each free slot wakes a distinct waiting {@code WAIT} submitter, and a submitter
 * that no longer needs its wake-up passes it on.
 *
 * <p><b>Shutting down.</b> {@link #shutdown()} rejects new tasks and lets the workers drain the
 * backlog; {@link #shutdownNow()} also interrupts running tasks and returns the tasks that had not
 * started; {@link #awaitTermination(Duration)} waits under the current context.
 */
public final class WorkerPool extends AbstractExecutorService {

    private static final System.Logger LOG = System.getLogger(WorkerPool.class.getName());
    private static final int RUNNING = 0;
    private static final int SHUTDOWN = 1;
    private static final int STOP = 2;
    private static final int SPINS_BEFORE_PARKING = 128;
    /**
     * An idle worker spins a little before parking, unless the workers alone fill the cores: then a
     * spinning worker only takes the core a submitter (or a busy worker) needs.
     */
    private final int spinsBeforeParking;

    /** What {@link WorkerPool#execute(Runnable)} does when the backlog is full. */
    public enum Rejection {
        /** Throw {@link RejectedExecutionException}. */
        REJECT,
        /** Run the task on the submitting thread. */
        CALLER_RUNS,
        /** Wait for room, at most the submit timeout and never past the submitter's context. */
        WAIT
    }

    /**
     * Events of a worker pool, each naming the pool; every method defaults to nothing. A pool takes
     * any number of listeners; unless one of them overrides {@link #onTaskFailed}, the pool logs a
     * failed task at WARNING through {@link System.Logger} (logger {@code dev.resilience.pool}), so
     * a failure is never silent.
     * Methods run on the pool's or the submitter's thread: keep them short. An exception a method
     * throws is logged and ignored.
     */
    public interface Listener {
        /** The listener that ignores everything. */
        Listener NOOP = new Listener() {
        };

        /**
         * A task threw {@code error}; the worker carries on.
         *
         * @param pool the pool
         * @param task the task
         * @param error what it threw
         */
        default void onTaskFailed(WorkerPool pool, Runnable task, Throwable error) {
        }

        /**
         * A task was rejected because the backlog was full or the pool shut down.
         *
         * @param pool the pool
         * @param task the task
         */
        default void onTaskRejected(WorkerPool pool, Runnable task) {
        }

        /**
         * A task was skipped because its context had ended before it started.
         *
         * @param pool the pool
         * @param task the task
         */
        default void onTaskSkipped(WorkerPool pool, Runnable task) {
        }

        /**
         * The pool terminated: shut down, and every worker has ended.
         *
         * @param pool the pool
         */
        default void onTerminated(WorkerPool pool) {
        }
    }

    private final String name;
    private final MpmcArrayQueue<Runnable> queue;
    private final Rejection rejection;
    private final long submitTimeoutNanos;
    private final Ticker ticker;
    private final Listeners<Listener> listeners;
    private final Worker[] workers;
    private final WaitList idleWorkers = new WaitList();
    private final WaitList waitingSubmitters = new WaitList();
    private final WaitList terminationWaiters = new WaitList();
    private final AtomicInteger liveWorkers;
    private final LongAdder submitsStarted = new LongAdder();
    private final LongAdder submitsEnded = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder skipped = new LongAdder();
    private volatile int state = RUNNING;
    private volatile boolean terminated;

    private WorkerPool(Builder b) {
        this.name = b.name;
        this.queue = new MpmcArrayQueue<>(b.queueCapacity);
        this.rejection = b.rejection;
        this.submitTimeoutNanos = b.submitTimeoutNanos;
        this.ticker = b.ticker;
        this.listeners = new Listeners<>(Listener.NOOP, members -> Listener.NOOP, b.listeners);
        this.workers = new Worker[b.threads];
        this.spinsBeforeParking = b.threads < Runtime.getRuntime().availableProcessors() ? SPINS_BEFORE_PARKING : 0;
        this.liveWorkers = new AtomicInteger(b.threads);
        ThreadFactory factory = b.threadFactory();
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            Thread t = factory.newThread(workers[i]);
            if (t == null) {
                throw new IllegalStateException("the thread factory returned null");
            }
            workers[i].thread = t;
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /** Starts a worker pool configuration. */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ submitting

    /**
     * Queues {@code task} under the current context if there is room; never waits, never throws on a
     * full backlog.
     *
     * @return false if the backlog is full or the pool is shut down
     */
    public boolean offer(Runnable task) {
        Objects.requireNonNull(task, "task");
        submitsStarted.increment();
        try {
            return state == RUNNING && enqueue(wrap(task));
        } finally {
            endSubmit();
        }
    }

    /**
     * Queues {@code task} under the current context, applying the rejection policy when the backlog
     * is full.
     *
     * @throws RejectedExecutionException if the pool is shut down, or the backlog is full under
     *     {@code REJECT}, or under {@code WAIT} the submit timeout passed or the thread was interrupted
     * @throws ContextDoneException under {@code WAIT}, if the context ends first (counted as rejected)
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        try {
            if (queueOrCallerRuns(task)) {
                return;
            }
            if (state != RUNNING) { // shut down meanwhile: a caller-run task would run after shutdown
                throw reject(task, "worker pool " + name + " is shut down");
            }
        } catch (RejectedExecutionException | ContextDoneException e) {
            tellListener(l -> l.onTaskRejected(WorkerPool.this, task), "onTaskRejected"); // outside the submit window: a slow listener cannot hold up shutdownNow
            throw e;
        }
        task.run(); // CALLER_RUNS, once this submit no longer holds up a shutdown
    }

    /** Queues {@code task} or throws; false if the caller must run it (CALLER_RUNS). */
    private boolean queueOrCallerRuns(Runnable task) {
        submitsStarted.increment();
        try {
            if (state != RUNNING) {
                throw reject(task, "worker pool " + name + " is shut down");
            }
            Runnable queued = wrap(task);
            if (enqueue(queued)) {
                return true;
            }
            switch (rejection) {
                case CALLER_RUNS:
                    return false;
                case WAIT:
                    waitToEnqueue(task, queued);
                    return true;
                default:
                    throw reject(task, "worker pool " + name + " backlog is full (" + queue.capacity() + ")");
            }
        } finally {
            endSubmit();
        }
    }

    /**
     * A submit is over. After a shutdown, idle workers may be parked waiting for exactly this (the
     * pool to be quiescent before they exit): wake them.
     */
    private void endSubmit() {
        submitsEnded.increment();
        if (state != RUNNING) {
            idleWorkers.wakeAll();
        }
    }

    /** Counts a rejection; {@link #execute} tells the listener once the submit is over. */
    private RejectedExecutionException reject(Runnable task, String why) {
        rejected.increment();
        return new RejectedExecutionException(why);
    }

    // ------------------------------------------------------------------ listener calls, contained

    /** Whether a listener's class overrides {@code onTaskFailed}; computed once per class. */
    private static final ClassValue<Boolean> HEARS_FAILURES = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            try {
                return type.getMethod("onTaskFailed", WorkerPool.class, Runnable.class, Throwable.class)
                        .getDeclaringClass() != Listener.class;
            } catch (NoSuchMethodException e) {
                return false;
            }
        }
    };

    /** Whether some listener takes task failures: otherwise the pool logs them, so none is silent. */
    private boolean failuresHeard() {
        for (Object l : listeners.members()) {
            if (HEARS_FAILURES.get(l.getClass())) {
                return true;
            }
        }
        return false;
    }

    /** Tells every listener (on failure, rejection and end paths only); what one throws is logged, no more. */
    private void tellListener(java.util.function.Consumer<Listener> event, String method) {
        listeners.forEach(event, (l, e) -> log("worker pool " + name + ": listener." + method + " threw", e));
    }

    private static void log(String message, Throwable e) {
        try {
            LOG.log(System.Logger.Level.ERROR, message, e);
        } catch (Throwable ignored) {
            // logging itself failed: nothing left to tell
        }
    }

    /**
     * Adds a listener of this pool's events, beside those given to the builder (as a metrics binder
     * does); events already in flight may miss it.
     *
     * @param listener the listener; what it throws is logged and changes nothing
     * @return removes the listener again
     */
    public Registration addListener(Listener listener) {
        return listeners.add(listener);
    }

    /**
     * The pool's name, as in its threads' names and its log messages.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    private Runnable wrap(Runnable task) {
        Context ctx = Context.current();
        return ctx == Context.background() ? task : new ContextTask(ctx, task);
    }

    private boolean enqueue(Runnable queued) {
        if (queue.offer(queued)) {
            idleWorkers.wakeOne();
            return true;
        }
        return false;
    }

    private void waitToEnqueue(Runnable task, Runnable queued) {
        try {
            boolean ok = waitingSubmitters.await(ticker, WaitList.until(ticker, submitTimeoutNanos), () -> {
                if (state != RUNNING) {
                    throw reject(task, "worker pool " + name + " is shut down");
                }
                return enqueue(queued);
            });
            if (!ok) {
                throw reject(task, "worker pool " + name + " backlog stayed full for "
                        + Duration.ofNanos(submitTimeoutNanos));
            }
        } catch (ContextDoneException e) {
            rejected.increment(); // not accepted: counted as rejected, reported as the context's end
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            RejectedExecutionException r = reject(task, "interrupted while waiting for room in worker pool " + name);
            r.initCause(e);
            throw r;
        }
    }

    // ------------------------------------------------------------------ workers

    private static final VarHandle RUNNING_TASK;
    private static final VarHandle COMPLETED;
    private static final VarHandle STATE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(WorkerPool.class, "state", int.class);
            RUNNING_TASK = l.findVarHandle(Worker.class, "running", boolean.class);
            COMPLETED = l.findVarHandle(Worker.class, "completed", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final class Worker implements Runnable {
        Thread thread;
        /** Written only by this worker, with opaque/release stores (no fence per task); read by monitors. */
        boolean running;
        long completed;

        @Override
        public void run() {
            try {
                work();
            } finally {
                if (liveWorkers.decrementAndGet() == 0) {
                    tellListener(l -> l.onTerminated(WorkerPool.this), "onTerminated");
                    terminated = true;
                    terminationWaiters.wakeAll();
                }
            }
        }

        private void work() {
            int idleSpins = 0;
            for (;;) {
                if (state == STOP) {
                    return; // shutdownNow returns what is left in the queue
                }
                Runnable task = queue.poll();
                if (task != null) {
                    idleSpins = 0;
                    waitingSubmitters.wakeOne();
                    runTask(task);
                    continue;
                }
                if (state != RUNNING && quiescent() && queue.isEmpty()) {
                    return; // no submit in flight and nothing left: every accepted task has run
                }
                if (idleSpins < spinsBeforeParking) {
                    idleSpins++;
                    Thread.onSpinWait();
                    continue;
                }
                idleSpins = 0;
                WaitList.Node me = idleWorkers.enter(thread);
                try {
                    if (queue.isEmpty() && !(state != RUNNING && quiescent())) {
                        LockSupport.park(this);
                        // An interrupt that reached an idle worker (a late cancel(true) from outside)
                        // is nobody's: with the flag set every park returns at once and the worker
                        // would spin a core. Cleared after the park, so no wake-up is lost: the loop
                        // looks at the queue and the state again before it parks.
                        Thread.interrupted();
                    }
                } finally {
                    idleWorkers.leave(me); // a wake-up is used by the poll that follows
                }
            }
        }

        private void runTask(Runnable task) {
            RUNNING_TASK.setOpaque(this, true);
            try {
                if (task instanceof ContextTask) {
                    ContextTask ct = (ContextTask) task;
                    if (ct.context.isDone()) {
                        // seen through a context wrapper (ContextExecutors.wrap around this pool): the
                        // future or completion inside is what must not be left waiting
                        Runnable inner = AttachedTask.innermost(ct.task);
                        if (!(inner instanceof CompletableFuture.AsynchronousCompletionTask)) {
                            skipped.increment();
                            if (inner instanceof Future) {
                                ((Future<?>) inner).cancel(false); // submit()'s future: its get() ends, it does not wait forever
                            }
                            tellListener(l -> l.onTaskSkipped(WorkerPool.this, inner), "onTaskSkipped");
                            return;
                        }
                    }
                }
                task.run(); // a ContextTask attaches its context around the task
            } catch (Throwable error) {
                failed.increment();
                Runnable failedTask = task instanceof ContextTask ? ((ContextTask) task).task : task;
                if (!failuresHeard()) {
                    try {
                        LOG.log(System.Logger.Level.WARNING, "worker pool " + name + ": a task failed", error);
                    } catch (Throwable ignored) {
                        // a logging backend that throws must not end the worker
                    }
                }
                tellListener(l -> l.onTaskFailed(WorkerPool.this, failedTask, error), "onTaskFailed");
            } finally {
                RUNNING_TASK.setOpaque(this, false);
                COMPLETED.setRelease(this, completed + 1);
                // An interrupt left by the task (or sent by shutdownNow) was for the task: an idle
                // worker with its flag set would return from every park at once and spin.
                Thread.interrupted();
            }
        }
    }

    /** No submit is between its state check and its enqueue. */
    private boolean quiescent() {
        return submitsEnded.sum() == submitsStarted.sum();
    }

    /** A task and the context it was submitted under. */
    private static final class ContextTask implements Runnable {
        final Context context;
        final Runnable task;

        ContextTask(Context context, Runnable task) {
            this.context = context;
            this.task = task;
        }

        @Override
        public void run() {
            try (Scope s = context.attach()) {
                task.run();
            }
        }
    }

    // ------------------------------------------------------------------ shutting down

    /** Rejects new tasks; queued ones still run. */
    @Override
    public void shutdown() {
        advanceTo(SHUTDOWN);
    }

    /**
     * Rejects new tasks, interrupts running ones and returns the queued tasks that had not started
     * (as submitted, without their context wrapper).
     */
    @Override
    public List<Runnable> shutdownNow() {
        advanceTo(STOP);
        while (!quiescent()) {
            Thread.yield(); // a submit between its state check and its enqueue, or a WAIT submitter leaving
        }
        List<Runnable> pending = new ArrayList<>();
        Runnable r;
        while ((r = queue.poll()) != null) {
            pending.add(r instanceof ContextTask ? ((ContextTask) r).task : r);
        }
        for (Worker w : workers) {
            if ((boolean) RUNNING_TASK.getOpaque(w)) {
                w.thread.interrupt();
            }
        }
        idleWorkers.wakeAll();
        return pending;
    }

    private void advanceTo(int target) {
        int s;
        do { // only forward: a shutdown() racing shutdownNow() must not take STOP back to SHUTDOWN
            s = state;
        } while (s < target && !STATE.compareAndSet(this, s, target));
        idleWorkers.wakeAll();
        waitingSubmitters.wakeAll();
    }

    @Override
    public boolean isShutdown() {
        return state != RUNNING;
    }

    @Override
    public boolean isTerminated() {
        return terminated;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return awaitWithin(Math.max(0, unit.toNanos(timeout)));
    }

    /**
     * Waits until all workers have ended after a shutdown, at most {@code timeout} and never past the
     * current context's end.
     *
     * @return true if terminated, false if the timeout passed first
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        return awaitWithin(Math.max(0, WaitList.saturatedNanos(timeout)));
    }

    private boolean awaitWithin(long timeoutNanos) throws InterruptedException {
        if (isTerminated()) {
            return true;
        }
        return terminationWaiters.await(ticker, WaitList.until(ticker, timeoutNanos), this::isTerminated);
    }

    // ------------------------------------------------------------------ statistics

    /** Tasks finished (normally, with an exception, or skipped after being picked up). */
    public long completed() {
        long sum = 0;
        for (Worker w : workers) {
            sum += (long) COMPLETED.getAcquire(w);
        }
        return sum;
    }

    /** Tasks that threw. */
    public long failed() {
        return failed.sum();
    }

    /** Tasks rejected by {@code execute}. */
    public long rejected() {
        return rejected.sum();
    }

    /** Tasks not run because their context had ended before they started. */
    public long skipped() {
        return skipped.sum();
    }

    /** Tasks waiting in the backlog (an estimate). */
    public int queued() {
        return queue.size();
    }

    /** Workers running a task now (an estimate). */
    public int active() {
        int n = 0;
        for (Worker w : workers) {
            n += (boolean) RUNNING_TASK.getOpaque(w) ? 1 : 0;
        }
        return n;
    }

    /** The number of workers. */
    public int threads() {
        return workers.length;
    }

    @Override
    public String toString() {
        return "WorkerPool[" + name + ", " + workers.length + " workers, queued ~" + queued()
                + ", completed " + completed() + (isShutdown() ? ", shut down" : "") + "]";
    }

    /** Configures a {@link WorkerPool}. */
    public static final class Builder {
        private String name = "workers";
        private int threads = Runtime.getRuntime().availableProcessors();
        private int queueCapacity = 1024;
        private Rejection rejection = Rejection.REJECT;
        private long submitTimeoutNanos = Duration.ofSeconds(30).toNanos();
        private Ticker ticker = Ticker.system();
        private final List<Listener> listeners = new ArrayList<>();
        private ThreadFactory threadFactory;

        private Builder() {
        }

        /** Names the pool and its threads. Default "workers". */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** The number of workers. Default: the number of processors. */
        public Builder threads(int threads) {
            if (threads < 1 || threads > 1 << 16) {
                throw new IllegalArgumentException("threads must be in [1, 65536]: " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** The backlog's capacity, rounded up to a power of two. Default 1024. */
        public Builder queueCapacity(int queueCapacity) {
            if (queueCapacity < 2 || queueCapacity > BoundedArrayQueue.MAX_CAPACITY) {
                throw new IllegalArgumentException("queueCapacity must be in [2, 2^30]: " + queueCapacity);
            }
            this.queueCapacity = queueCapacity;
            return this;
        }

        /** What {@code execute} does when the backlog is full. Default {@link Rejection#REJECT}. */
        public Builder rejection(Rejection rejection) {
            this.rejection = Objects.requireNonNull(rejection, "rejection");
            return this;
        }

        /** The longest a {@code WAIT} submit waits for room. Default 30 s. */
        public Builder submitTimeout(Duration submitTimeout) {
            Objects.requireNonNull(submitTimeout, "submitTimeout");
            if (submitTimeout.isNegative()) {
                throw new IllegalArgumentException("submitTimeout must not be negative: " + submitTimeout);
            }
            this.submitTimeoutNanos = WaitList.saturatedNanos(submitTimeout);
            return this;
        }

        /** The clock of submit and termination timeouts. Default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds a listener of task failures, rejections, skips and termination; may be called any
         * number of times. Unless one overrides {@code onTaskFailed}, failed tasks are logged at WARNING.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(Listener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Makes the worker threads. Default: platform threads named after the pool. */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * Runs the workers on virtual threads (Java 21 and later).
         *
         * @throws UnsupportedOperationException on Java 17 to 20
         */
        public Builder virtualThreads() {
            this.threadFactory = virtualThreadFactory();
            return this;
        }

        private ThreadFactory threadFactory() {
            if (threadFactory != null) {
                return threadFactory;
            }
            AtomicInteger n = new AtomicInteger();
            String prefix = name + "-";
            return r -> {
                Thread t = new Thread(r, prefix + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
        }

        private static ThreadFactory virtualThreadFactory() {
            try {
                Object builder = MethodHandles.publicLookup()
                        .findStatic(Thread.class, "ofVirtual", MethodType.methodType(Class.forName("java.lang.Thread$Builder$OfVirtual")))
                        .invoke();
                return (ThreadFactory) MethodHandles.publicLookup()
                        .findVirtual(Class.forName("java.lang.Thread$Builder"), "factory", MethodType.methodType(ThreadFactory.class))
                        .invoke(builder);
            } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException absent) {
                throw new UnsupportedOperationException("virtual threads need Java 21 or later", absent);
            } catch (Throwable e) {
                throw new IllegalStateException("could not make a virtual thread factory", e);
            }
        }

        /** The pool, with its workers started. */
        public WorkerPool build() {
            return new WorkerPool(this);
        }
    }
}
