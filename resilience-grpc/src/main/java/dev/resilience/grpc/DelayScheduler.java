package dev.resilience.grpc;

import dev.resilience.context.Delays;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler {@code io.grpc.Context.withDeadline} needs for the contexts {@link GrpcContexts}
 * makes, on the toolkit's shared timer ({@link Delays}): no thread of its own. Only one-shot
 * scheduling is supported (all gRPC asks of it); actions run on the common pool, never on the
 * thread that schedules them.
 */
final class DelayScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    static final DelayScheduler INSTANCE = new DelayScheduler();

    private DelayScheduler() {
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return schedule(new DelayedTask<Object>(command, null, at(delay, unit)));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return schedule(new DelayedTask<>(callable, at(delay, unit)));
    }

    private static long at(long delay, TimeUnit unit) {
        return System.nanoTime() + Math.max(0L, unit.toNanos(delay));
    }

    private static <V> DelayedTask<V> schedule(DelayedTask<V> task) {
        // never inline on the scheduling thread (gRPC schedules while holding its context's lock)
        task.timer = Delays.schedule(Ticker.system(), task.at, () -> ForkJoinPool.commonPool().execute(task));
        if (task.isCancelled()) {
            task.timer.remove(); // cancelled while being scheduled
        }
        return task;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("only one-shot scheduling is supported");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("only one-shot scheduling is supported");
    }

    @Override
    public void execute(Runnable command) {
        ForkJoinPool.commonPool().execute(command);
    }

    @Override
    public void shutdown() {
        // shared: never shut down
    }

    @Override
    public List<Runnable> shutdownNow() {
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return false;
    }

    /** A one-shot task on the shared timer; cancelling it withdraws it from the timer. */
    private static final class DelayedTask<V> extends FutureTask<V> implements ScheduledFuture<V> {
        final long at;
        volatile Registration timer;

        DelayedTask(Runnable command, V result, long at) {
            super(command, result);
            this.at = at;
        }

        DelayedTask(Callable<V> callable, long at) {
            super(callable);
            this.at = at;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            Registration r = timer;
            if (cancelled && r != null) {
                r.remove();
            }
            return cancelled;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(at - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }
    }
}
