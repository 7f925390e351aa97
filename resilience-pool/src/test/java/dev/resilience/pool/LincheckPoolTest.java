package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck's {@code runConcurrentTest}) of the pools' state machines. Lincheck runs
 * the pool's own threads (workers, the background thread) and the test's threads under its
 * scheduler and explores their interleavings: an invariant broken in any of them fails the test with
 * the schedule that broke it. On the code before the fixes, the lost task after a shutdown and the
 * second live object of a one-object pool were found here; the lost wake-ups (a task waiting while a
 * worker sleeps, WAIT submitters refused with room) were not, as Lincheck's scheduler can let a
 * parked thread return, so {@link WorkerPoolLivenessTest} bounds those on real threads.
 */
class LincheckPoolTest {

    /**
     * Interleavings explored per test: 500 in {@code mvn verify} (its 10 minutes on 2 cores);
     * {@code -Dlincheck.invocations=5000} for a deeper run.
     */
    private static final int INVOCATIONS = Integer.getInteger("lincheck.invocations", 500);

    @Test
    void workerPoolShutdownRacingSubmitsRunsOrRejectsEveryTaskAndTerminates() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WorkerPool pool = WorkerPool.builder().threads(1).queueCapacity(2).build();
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            Thread submitter = start(() -> submitTwice(pool, accepted, ran));
            pool.shutdown();
            join(submitter);
            assertTrue(awaitTermination(pool), "terminated");
            assertEquals(accepted.get(), ran.get(), "every accepted task ran");
        });
    }

    @Test
    void workerPoolShutdownNowAccountsForEveryAcceptedTask() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WorkerPool pool = WorkerPool.builder().threads(1).queueCapacity(2).build();
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            Thread submitter = start(() -> submitTwice(pool, accepted, ran));
            List<Runnable> returned = pool.shutdownNow();
            join(submitter);
            assertTrue(awaitTermination(pool), "terminated");
            assertEquals(accepted.get(), ran.get() + returned.size(), "accepted = ran + returned by shutdownNow");
        });
    }

    @Test
    void aTaskQueuedWhileAWorkerIsIdleIsTakenByIt() {
        // T1 occupies one worker until T2 runs: T2 must be taken by the other, idle worker. A
        // wake-up given twice to the same worker leaves T2 queued and T1 waiting forever.
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WorkerPool pool = WorkerPool.builder().threads(2).queueCapacity(2).build();
            CountDownLatch t2Ran = new CountDownLatch(1);
            pool.execute(() -> {
                try {
                    t2Ran.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            pool.execute(t2Ran::countDown);
            try {
                t2Ran.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            pool.shutdown();
            assertTrue(awaitTermination(pool), "terminated");
        });
    }

    @Test
    void waitingSubmittersGetInWhenRoomFrees() {
        // One worker busy, the backlog (2) full, two WAIT submitters parked: as the worker frees the
        // slots both get in, none is left waiting with room in the queue.
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WorkerPool pool = WorkerPool.builder().threads(1).queueCapacity(2)
                    .rejection(WorkerPool.Rejection.WAIT).build();
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch release = new CountDownLatch(1);
            pool.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            pool.execute(ran::incrementAndGet);
            pool.execute(ran::incrementAndGet);
            List<Thread> submitters = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                submitters.add(start(() -> pool.execute(ran::incrementAndGet)));
            }
            release.countDown();
            submitters.forEach(LincheckPoolTest::join);
            pool.shutdown();
            assertTrue(awaitTermination(pool), "terminated");
            assertEquals(4, ran.get());
            assertEquals(0, pool.rejected());
        });
    }

    @Test
    void objectPoolNeverHasMoreThanMaxSizeAliveAndCloseDestroysEverything() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            AtomicInteger alive = new AtomicInteger();
            AtomicInteger mostAlive = new AtomicInteger();
            AtomicInteger made = new AtomicInteger();
            Allocator<Integer> allocator = new Allocator<>() {
                @Override
                public Integer allocate() {
                    mostAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
                    return made.incrementAndGet();
                }

                @Override
                public void deallocate(Integer object) {
                    alive.decrementAndGet();
                }
            };
            ObjectPool<Integer> pool = ObjectPool.builder(allocator).maxSize(1).build();
            Thread invalidating = start(() -> borrowAnd(pool, true));
            Thread returning = start(() -> borrowAnd(pool, false));
            join(invalidating);
            join(returning);
            try {
                assertTrue(pool.close(Duration.ofSeconds(30)), "closed");
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertTrue(mostAlive.get() <= 1, "at most maxSize alive, as the allocator sees it: " + mostAlive.get());
            assertEquals(0, alive.get(), "everything deallocated at close");
            assertEquals(0, pool.size());
        });
    }

    @Test
    void blockingQueuePuttersAndATakerNeverLoseAWakeUp() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            BlockingMessageQueue<Integer> q = new BlockingMessageQueue<>(new MpmcArrayQueue<>(2));
            List<Thread> putters = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                int base = p * 10;
                putters.add(start(() -> {
                    for (int i = 0; i < 2; i++) {
                        try {
                            q.put(base + i);
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    }
                }));
            }
            int sum = 0;
            for (int i = 0; i < 4; i++) {
                try {
                    sum += q.take();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            putters.forEach(LincheckPoolTest::join);
            assertEquals(0 + 1 + 10 + 11, sum, "every element taken once");
        });
    }

    /** Submits two counting tasks; a rejected one (the pool shut down) is not accepted. */
    private static void submitTwice(WorkerPool pool, AtomicInteger accepted, AtomicInteger ran) {
        for (int i = 0; i < 2; i++) {
            try {
                pool.execute(ran::incrementAndGet);
                accepted.incrementAndGet();
            } catch (RejectedExecutionException shutDown) {
                // rejected to the caller: not accepted
            }
        }
    }

    private static void borrowAnd(ObjectPool<Integer> pool, boolean invalidate) {
        try {
            Lease<Integer> lease = pool.borrow();
            if (invalidate) {
                lease.invalidate();
            } else {
                lease.close();
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean awaitTermination(WorkerPool pool) {
        try {
            return pool.awaitTermination(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
