package dev.resilience.benchmarks;

import dev.failsafe.spi.Scheduler;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Failsafe {@link Scheduler} that runs what is due now on the calling thread, as ours and
 * Resilience4j's asynchronous paths do with a stage that is already complete, and hands what is due
 * later (a timeout's timer, a retry's delay) to {@code delayed}. With it, Failsafe's
 * {@code getStageAsync} rows do the same work as the other libraries' (no hop to the common pool).
 */
final class InlineFailsafeScheduler implements Scheduler {

    private final ScheduledExecutorService delayed;

    InlineFailsafeScheduler(ScheduledExecutorService delayed) {
        this.delayed = delayed;
    }

    @Override
    public ScheduledFuture<?> schedule(Callable<?> callable, long delay, TimeUnit unit) {
        if (delay > 0) {
            return delayed.schedule(callable, delay, unit);
        }
        try {
            return new Done(callable.call(), null);
        } catch (Exception e) {
            return new Done(null, e);
        }
    }

    /** A future already complete. */
    private static final class Done implements ScheduledFuture<Object> {
        private final Object value;
        private final Exception failure;

        Done(Object value, Exception failure) {
            this.value = value;
            this.failure = failure;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return 0;
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(0, other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return false;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public boolean isDone() {
            return true;
        }

        @Override
        public Object get() throws ExecutionException {
            if (failure != null) {
                throw new ExecutionException(failure);
            }
            return value;
        }

        @Override
        public Object get(long timeout, TimeUnit unit) throws ExecutionException {
            return get();
        }
    }
}
