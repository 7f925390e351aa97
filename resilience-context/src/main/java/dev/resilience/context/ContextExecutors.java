package dev.resilience.context;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Executors that carry the submitter's {@link Context} (values, deadline, cancellation) to the
 * thread that runs the task. The context is captured when a task is submitted, not when it runs.
 *
 * <pre>{@code
 * ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(4));
 * try (Scope s = requestContext.attach()) {
 *     pool.submit(() -> Context.current().throwIfDone());   // sees requestContext
 * }
 * }</pre>
 *
 * <p>Works with any executor, including the virtual-thread-per-task executor of JDK 21+.
 */
public final class ContextExecutors {

    private ContextExecutors() {
    }

    /** An executor that runs each task under the context current when it was submitted. */
    public static Executor wrap(Executor executor) {
        Objects.requireNonNull(executor, "executor");
        if (executor instanceof ExecutorService) {
            return wrap((ExecutorService) executor);
        }
        return task -> executor.execute(Context.current().wrap(task));
    }

    /** An executor service that runs each task under the context current when it was submitted. */
    public static ExecutorService wrap(ExecutorService executor) {
        Objects.requireNonNull(executor, "executor");
        if (executor instanceof ScheduledExecutorService) {
            return wrap((ScheduledExecutorService) executor);
        }
        if (executor instanceof PropagatingExecutorService) {
            return executor;
        }
        return new PropagatingExecutorService(executor);
    }

    /**
     * A scheduled executor service that runs each task, delayed or periodic, under the context
     * current when it was scheduled.
     */
    public static ScheduledExecutorService wrap(ScheduledExecutorService executor) {
        Objects.requireNonNull(executor, "executor");
        if (executor instanceof PropagatingScheduledExecutorService) {
            return executor;
        }
        return new PropagatingScheduledExecutorService(executor);
    }

    /** An executor that runs every task under {@code context}, whatever is current at submission. */
    public static Executor fixed(Context context, Executor executor) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(executor, "executor");
        return task -> executor.execute(context.wrap(task));
    }

    private static class PropagatingExecutorService extends AbstractExecutorService {
        final ExecutorService delegate;

        PropagatingExecutorService(ExecutorService delegate) {
            this.delegate = delegate;
        }

        @Override
        public void execute(Runnable command) {
            delegate.execute(Context.current().wrap(command));
        }

        @Override
        public void shutdown() {
            delegate.shutdown();
        }

        @Override
        public List<Runnable> shutdownNow() {
            // the tasks as they were handed in (submit's futures among them), not our wrappers
            // a copy: the delegate's list may be immutable (a virtual-thread executor's List.of())
            List<Runnable> pending = new java.util.ArrayList<>(delegate.shutdownNow());
            pending.replaceAll(dev.resilience.context.internal.AttachedTask::innermost);
            return pending;
        }

        @Override
        public boolean isShutdown() {
            return delegate.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return delegate.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return delegate.awaitTermination(timeout, unit);
        }

        @Override
        public String toString() {
            return "ContextExecutors.wrap(" + delegate + ")";
        }
    }

    private static final class PropagatingScheduledExecutorService extends PropagatingExecutorService
            implements ScheduledExecutorService {
        private final ScheduledExecutorService scheduler;

        PropagatingScheduledExecutorService(ScheduledExecutorService delegate) {
            super(delegate);
            this.scheduler = delegate;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return scheduler.schedule(Context.current().wrap(command), delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return scheduler.schedule(Context.current().wrap(callable), delay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period,
                TimeUnit unit) {
            return scheduler.scheduleAtFixedRate(Context.current().wrap(command), initialDelay, period, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
                TimeUnit unit) {
            return scheduler.scheduleWithFixedDelay(Context.current().wrap(command), initialDelay, delay, unit);
        }
    }
}
