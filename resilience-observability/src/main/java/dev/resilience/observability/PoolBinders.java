package dev.resilience.observability;

import static dev.resilience.observability.ResilienceTelemetry.lower;

import dev.resilience.pool.MessageQueue;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.PoolListener;
import dev.resilience.pool.Recycler;
import dev.resilience.pool.WorkerPool;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The meters of resilience-pool's primitives: object pools, worker pools, recyclers and queues. */
final class PoolBinders {

    private static final Logger POOL_LOG = LoggerFactory.getLogger("resilience.pool");
    private static final Logger WORKERS_LOG = LoggerFactory.getLogger("resilience.workers");

    private PoolBinders() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, ObjectPool<?> pool) {
        ResilienceTelemetry.Binding binding = t.bindWith(pool, pool.name(), b -> {
            b.set.gauge("resilience.pool.size", "objects allocated", pool, ObjectPool::size);
            b.set.gauge("resilience.pool.idle", "idle objects", pool, ObjectPool::idle);
            b.set.gauge("resilience.pool.in.use", "objects lent out", pool, p -> Math.max(0, p.size() - p.idle()));
            b.set.gauge("resilience.pool.pending", "borrowers waiting", pool, ObjectPool::pendingBorrowers);
            b.set.gauge("resilience.pool.max", "maximum size", pool, ObjectPool::maxSize);
            b.listening(pool.addListener(new PoolEvents(b)));
        });
        if (pool.isClosed()) {
            binding.close(); // closed before or while binding: its onClosed may have come and gone
        }
        return binding;
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, WorkerPool workers) {
        ResilienceTelemetry.Binding binding = t.bindWith(workers, workers.name(), b -> {
            b.set.gauge("resilience.workers.active", "workers running a task", workers, WorkerPool::active);
            b.set.gauge("resilience.workers.queued", "tasks waiting", workers, WorkerPool::queued);
            b.set.functionCounter("resilience.workers.completed", "tasks finished", workers, WorkerPool::completed);
            b.set.functionCounter("resilience.workers.rejected", "tasks rejected", workers, WorkerPool::rejected);
            b.set.functionCounter("resilience.workers.failed", "tasks that threw", workers, WorkerPool::failed);
            b.set.functionCounter("resilience.workers.skipped", "tasks skipped because their context ended", workers, WorkerPool::skipped);
            b.listening(workers.addListener(new WorkerPool.Listener() {
                @Override
                public void onTaskFailed(WorkerPool pool, Runnable task, Throwable error) {
                    WORKERS_LOG.atWarn().setMessage("worker pool task failed").addKeyValue("name", pool.name())
                            .setCause(error).log();
                }

                @Override
                public void onTerminated(WorkerPool pool) {
                    b.close();
                }
            }));
        });
        if (workers.isTerminated()) {
            binding.close(); // terminated before or while binding: its onTerminated may have come and gone
        }
        return binding;
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, String name, Recycler<?> recycler) {
        Objects.requireNonNull(recycler, "recycler");
        return t.bindWith(recycler, name, b -> {
            b.set.functionCounter("resilience.recycler.created", "objects made by the factory", recycler, Recycler::created);
            b.set.functionCounter("resilience.recycler.dropped", "released objects dropped", recycler, Recycler::dropped);
        });
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, String name, MessageQueue<?> queue) {
        Objects.requireNonNull(queue, "queue");
        return t.bindWith(queue, name, b -> {
            b.set.gauge("resilience.queue.depth", "elements in the queue (estimate)", queue, MessageQueue::size);
            b.set.gauge("resilience.queue.capacity", "the queue's capacity", queue, MessageQueue::capacity);
        });
    }

    /** An object pool's events, straight to its binding's meters; the pool's closing closes the binding. */
    private static final class PoolEvents implements PoolListener {
        private final ResilienceTelemetry.Binding binding;
        private final Backends.TimerSeries borrowWait;
        private final Backends.CounterSeries timeouts;
        private final Backends.CounterSeries allocationFailures;
        private final Backends.CounterSeries leaks;
        private final Backends.CounterSeries[] destroyed = new Backends.CounterSeries[DestroyReason.values().length];

        PoolEvents(ResilienceTelemetry.Binding b) {
            this.binding = b;
            borrowWait = b.set.timer("resilience.pool.borrow.wait", "time borrowers waited");
            timeouts = b.set.counter("resilience.pool.borrow.timeouts", "borrowers that gave up waiting");
            allocationFailures = b.set.counter("resilience.pool.allocation.failures", "allocator failures");
            leaks = b.set.counter("resilience.pool.leaks", "leases reported as suspected leaks");
            for (DestroyReason r : DestroyReason.values()) {
                destroyed[r.ordinal()] = b.set.counter("resilience.pool.destroyed", "objects destroyed", "reason", lower(r));
            }
        }

        @Override
        public void onBorrowWaited(ObjectPool<?> pool, long waitNanos) {
            borrowWait.record(waitNanos);
        }

        @Override
        public void onBorrowTimedOut(ObjectPool<?> pool, long waitNanos) {
            timeouts.add(1);
        }

        @Override
        public void onAllocationFailed(ObjectPool<?> pool, Throwable error) {
            allocationFailures.add(1);
        }

        @Override
        public void onDestroyed(ObjectPool<?> pool, DestroyReason reason) {
            if (reason != null) {
                destroyed[reason.ordinal()].add(1);
            }
        }

        /** The pool is gone: its meters go too. */
        @Override
        public void onClosed(ObjectPool<?> pool) {
            binding.close();
        }

        @Override
        public void onLeakSuspected(ObjectPool<?> pool, Object object, Duration held, Throwable borrowedAt) {
            POOL_LOG.atWarn().setMessage("suspected leak: a lease has not been returned").addKeyValue("name", pool.name())
                    .addKeyValue("held", held).setCause(borrowedAt).log();
            leaks.add(1);
        }
    }
}
