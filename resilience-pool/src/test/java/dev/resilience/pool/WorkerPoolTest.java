package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {

    private static final Context.Key<String> USER = Context.Key.named("user");

    private final ManualTicker ticker = new ManualTicker();
    private final List<WorkerPool> pools = new ArrayList<>();
    private final ExecutorService helpers = Executors.newCachedThreadPool();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        release.countDown();
        helpers.shutdownNow();
        pools.forEach(WorkerPool::shutdownNow);
    }

    private WorkerPool pool(WorkerPool.Builder b) {
        WorkerPool p = b.ticker(ticker).build();
        pools.add(p);
        return p;
    }

    /** Occupies one worker until {@link #release} opens; returns once it runs. */
    private void blockAWorker(WorkerPool pool) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        pool.execute(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
    }

    @Test
    void runsEveryTaskAndCountsThem() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(4).queueCapacity(64).rejection(WorkerPool.Rejection.WAIT));
        int n = 10_000;
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            pool.execute(done::countDown);
        }
        assertTrue(done.await(10, TimeUnit.SECONDS));
        TestWaits.await(() -> pool.completed() == n, "completed counts all");
        assertEquals(0, pool.failed());
        assertEquals(0, pool.rejected());
    }

    @Test
    void tasksRunUnderTheSubmittersContext() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(2));
        CompletableFuture<String> seen = new CompletableFuture<>();
        try (Scope s = Context.current().withValue(USER, "ada").attach()) {
            pool.execute(() -> seen.complete(Context.current().get(USER)));
        }
        assertEquals("ada", seen.get(10, TimeUnit.SECONDS));
        CompletableFuture<String> none = new CompletableFuture<>();
        pool.execute(() -> none.complete(String.valueOf(Context.current().get(USER))));
        assertEquals("null", none.get(10, TimeUnit.SECONDS), "no context leaks from one task to the next");
    }

    @Test
    void aTaskWhoseContextEndedBeforeItStartedIsSkipped() throws Exception {
        BlockingQueue<Runnable> skippedTasks = new LinkedBlockingQueue<>();
        WorkerPool pool = pool(WorkerPool.builder().threads(1).listener(new WorkerPool.Listener() {
            @Override
            public void onTaskSkipped(WorkerPool pool, Runnable task) {
                skippedTasks.add(task);
            }
        }));
        blockAWorker(pool);
        AtomicBoolean ran = new AtomicBoolean();
        Runnable task = () -> ran.set(true);
        CancelHandle h = Context.current().withCancel();
        try (Scope s = h.attach()) {
            pool.execute(task);
        }
        h.cancel();
        release.countDown();
        assertSame(task, skippedTasks.poll(10, TimeUnit.SECONDS));
        assertFalse(ran.get());
        assertEquals(1, pool.skipped());
    }

    @Test
    void aFutureSentThroughAContextWrapperIsCancelledOrRunNotLeftWaitingWhenItsContextEnded() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1));
        java.util.concurrent.ExecutorService wrapped = dev.resilience.context.ContextExecutors.wrap(pool);
        blockAWorker(pool);
        java.util.concurrent.Future<Integer> submitted;
        CompletableFuture<String> supplied;
        CancelHandle h = Context.current().withCancel();
        try (Scope s = h.attach()) {
            submitted = wrapped.submit(() -> 42);
            supplied = CompletableFuture.supplyAsync(() -> "supplied", wrapped);
        }
        h.cancel();
        release.countDown();
        // skipped as the pool skips its own: the future inside is cancelled, its get() ends
        assertThrows(java.util.concurrent.CancellationException.class, () -> submitted.get(10, TimeUnit.SECONDS));
        // a CompletableFuture's own task runs whatever its context (it completes the future)
        assertEquals("supplied", supplied.get(10, TimeUnit.SECONDS));
    }

    @Test
    void shutdownNowOfAContextWrapperReturnsTheSubmittedFutures() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1));
        java.util.concurrent.ExecutorService wrapped = dev.resilience.context.ContextExecutors.wrap(pool);
        blockAWorker(pool);
        java.util.concurrent.Future<Integer> queued = wrapped.submit(() -> 42);
        List<Runnable> pending = wrapped.shutdownNow();
        assertEquals(1, pending.size());
        assertSame(queued, pending.get(0), "the future itself, which the caller can cancel");
    }

    @Test
    void anInterruptThatReachesAnIdleWorkerDoesNotMakeItSpin() throws Exception {
        List<Thread> workers = new java.util.concurrent.CopyOnWriteArrayList<>();
        WorkerPool pool = pool(WorkerPool.builder().threads(1).threadFactory(r -> {
            Thread t = new Thread(r, "idle-interrupt-probe");
            t.setDaemon(true);
            workers.add(t);
            return t;
        }));
        CompletableFuture<String> first = new CompletableFuture<>();
        pool.execute(() -> first.complete("ran"));
        assertEquals("ran", first.get(10, TimeUnit.SECONDS));
        Thread worker = workers.get(0);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (worker.getState() != Thread.State.WAITING && System.nanoTime() < until) {
            Thread.sleep(1); // a poll with a bound: the worker parks once idle
        }
        worker.interrupt(); // a late cancel(true) from outside, say
        Thread.sleep(100); // time to spin through its spins before parking again
        int running = 0;
        for (int i = 0; i < 50; i++) {
            if (worker.getState() == Thread.State.RUNNABLE) {
                running++; // a worker whose every park returns at once is seen running
            }
            Thread.sleep(2);
        }
        assertTrue(running <= 5, "the idle worker was seen running in " + running + " of 50 looks: it spins");
        CompletableFuture<String> next = new CompletableFuture<>();
        pool.execute(() -> next.complete(Thread.currentThread().isInterrupted() ? "interrupted" : "clean"));
        assertEquals("clean", next.get(10, TimeUnit.SECONDS), "the next task does not inherit the stray interrupt");
    }

    @Test
    void aFailingTaskIsContainedCountedAndReported() throws Exception {
        BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
        WorkerPool pool = pool(WorkerPool.builder().threads(1).listener(new WorkerPool.Listener() {
            @Override
            public void onTaskFailed(WorkerPool pool, Runnable task, Throwable error) {
                failures.add(error);
            }
        }));
        for (int i = 0; i < 3; i++) {
            pool.execute(() -> {
                throw new IllegalStateException("boom");
            });
        }
        CompletableFuture<String> after = new CompletableFuture<>();
        pool.execute(() -> after.complete("still working"));
        assertEquals("still working", after.get(10, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) {
            assertEquals("boom", failures.poll(10, TimeUnit.SECONDS).getMessage());
        }
        assertEquals(3, pool.failed());
    }

    @Test
    void aFullBacklogRejects() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1).queueCapacity(2));
        blockAWorker(pool);
        assertTrue(pool.offer(() -> { }));
        assertTrue(pool.offer(() -> { }));
        assertFalse(pool.offer(() -> { }), "offer says no without throwing");
        assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }));
        assertEquals(1, pool.rejected());
        assertEquals(2, pool.queued());
    }

    @Test
    void callerRunsWhenFull() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1).queueCapacity(2).rejection(WorkerPool.Rejection.CALLER_RUNS));
        blockAWorker(pool);
        pool.execute(() -> { });
        pool.execute(() -> { });
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        pool.execute(() -> ranOn.set(Thread.currentThread()));
        assertSame(Thread.currentThread(), ranOn.get());
    }

    @Test
    void waitWhenFullUntilRoomTheSubmitTimeoutOrTheContextDeadline() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1).queueCapacity(2)
                .rejection(WorkerPool.Rejection.WAIT).submitTimeout(Duration.ofSeconds(5)));
        blockAWorker(pool);
        pool.execute(() -> { });
        pool.execute(() -> { });
        AtomicReference<Thread> submitter = new AtomicReference<>();
        CompletableFuture<Object> timedOut = CompletableFuture.supplyAsync(() -> {
            submitter.set(Thread.currentThread());
            try {
                pool.execute(() -> { });
                return "queued";
            } catch (RuntimeException e) {
                return e;
            }
        }, helpers);
        TestWaits.await(() -> submitter.get() != null, "submitter started");
        TestWaits.awaitParked(submitter.get());
        ticker.advance(Duration.ofSeconds(5));
        assertInstanceOf(RejectedExecutionException.class, timedOut.get(10, TimeUnit.SECONDS));

        AtomicReference<Thread> second = new AtomicReference<>();
        CompletableFuture<Object> deadline = CompletableFuture.supplyAsync(() -> {
            second.set(Thread.currentThread());
            try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(1), ticker); Scope s = h.attach()) {
                pool.execute(() -> { });
                return "queued";
            } catch (RuntimeException e) {
                return e;
            }
        }, helpers);
        TestWaits.await(() -> second.get() != null, "second submitter started");
        TestWaits.awaitParked(second.get());
        ticker.advance(Duration.ofSeconds(1));
        assertInstanceOf(DeadlineExceededException.class, deadline.get(10, TimeUnit.SECONDS));

        AtomicReference<Thread> third = new AtomicReference<>();
        CompletableFuture<Object> queued = CompletableFuture.supplyAsync(() -> {
            third.set(Thread.currentThread());
            pool.execute(() -> { });
            return "queued";
        }, helpers);
        TestWaits.await(() -> third.get() != null, "third submitter started");
        TestWaits.awaitParked(third.get());
        release.countDown();
        assertEquals("queued", queued.get(10, TimeUnit.SECONDS));
        assertEquals(2, pool.rejected());
    }

    @Test
    void shutdownRejectsNewTasksAndDrainsTheBacklog() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(2).queueCapacity(16));
        blockAWorker(pool);
        blockAWorker(pool);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 5; i++) {
            pool.execute(ran::incrementAndGet);
        }
        pool.shutdown();
        assertTrue(pool.isShutdown());
        assertThrows(RejectedExecutionException.class, () -> pool.execute(ran::incrementAndGet));
        assertFalse(pool.offer(ran::incrementAndGet));
        assertFalse(pool.isTerminated());
        release.countDown();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(5, ran.get());
        assertEquals(7, pool.completed());
    }

    @Test
    void shutdownNowInterruptsRunningTasksAndReturnsThePendingOnes() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1).queueCapacity(16));
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        pool.execute(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
                interrupted.complete(false);
            } catch (InterruptedException e) {
                interrupted.complete(true);
            }
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
        Runnable plain = () -> { };
        Runnable withContext = () -> { };
        pool.execute(plain);
        try (Scope s = Context.current().withValue(USER, "bob").attach()) {
            pool.execute(withContext);
        }
        List<Runnable> pending = pool.shutdownNow();
        assertEquals(List.of(plain, withContext), pending, "returned as submitted");
        assertTrue(interrupted.get(10, TimeUnit.SECONDS));
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    @Test
    void awaitTerminationTimesOutOnTheTicker() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(1));
        blockAWorker(pool);
        pool.shutdown();
        AtomicReference<Thread> waiter = new AtomicReference<>();
        CompletableFuture<Boolean> result = CompletableFuture.supplyAsync(() -> {
            waiter.set(Thread.currentThread());
            try {
                return pool.awaitTermination(Duration.ofSeconds(3));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, helpers);
        TestWaits.await(() -> waiter.get() != null, "waiter started");
        TestWaits.awaitParked(waiter.get());
        ticker.advance(Duration.ofSeconds(3));
        assertFalse(result.get(10, TimeUnit.SECONDS));
    }

    @Test
    void itServesAsAnExecutorService() throws Exception {
        ExecutorService pool = pool(WorkerPool.builder().threads(2));
        Future<Integer> f = pool.submit(() -> 6 * 7);
        assertEquals(42, f.get(10, TimeUnit.SECONDS));
        List<Future<String>> all = pool.invokeAll(List.of(() -> "a", () -> "b"));
        assertEquals("a", all.get(0).get());
        assertEquals("b", all.get(1).get());
        Future<?> failing = pool.submit(() -> {
            throw new IllegalStateException("kept in the future");
        });
        Exception e = assertThrows(Exception.class, () -> failing.get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
    }

    @Test
    void virtualThreadWorkersOnJava21AndLater() throws Exception {
        ExecutorService probe = TestWaits.virtualThreads();
        probe.shutdown();
        WorkerPool pool = pool(WorkerPool.builder().threads(3).virtualThreads());
        CompletableFuture<Boolean> virtual = new CompletableFuture<>();
        pool.execute(() -> virtual.complete(Recycler.isVirtual(Thread.currentThread())));
        assertTrue(virtual.get(10, TimeUnit.SECONDS));
    }

    @Test
    void virtualThreadsAreRefusedBeforeJava21() {
        boolean has21 = Runtime.version().feature() >= 21;
        if (!has21) {
            assertThrows(UnsupportedOperationException.class, () -> WorkerPool.builder().virtualThreads());
        } else {
            assertTrue(WorkerPool.builder().virtualThreads() != null);
        }
    }

    @Test
    void stressEveryTaskRunsExactlyOnceAndTheCountersAddUp() throws Exception {
        WorkerPool pool = pool(WorkerPool.builder().threads(3).queueCapacity(256).rejection(WorkerPool.Rejection.WAIT));
        int submitters = 4;
        int perSubmitter = Integer.getInteger("stress.elements", 1_000_000) / 10 / submitters;
        AtomicIntegerArray runs = new AtomicIntegerArray(submitters * perSubmitter);
        CountDownLatch done = new CountDownLatch(submitters * perSubmitter);
        List<CompletableFuture<Void>> sending = new ArrayList<>();
        for (int s = 0; s < submitters; s++) {
            int base = s * perSubmitter;
            sending.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < perSubmitter; i++) {
                    int id = base + i;
                    pool.execute(() -> {
                        runs.incrementAndGet(id);
                        done.countDown();
                    });
                }
            }, helpers));
        }
        for (CompletableFuture<Void> f : sending) {
            f.get(120, TimeUnit.SECONDS);
        }
        assertTrue(done.await(120, TimeUnit.SECONDS));
        for (int i = 0; i < runs.length(); i++) {
            assertEquals(1, runs.get(i), "task " + i);
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(runs.length(), pool.completed());
        assertEquals(0, pool.rejected() + pool.failed() + pool.skipped());
    }

    @Test
    void badInputFailsFast() {
        WorkerPool.Builder b = WorkerPool.builder();
        assertThrows(IllegalArgumentException.class, () -> b.threads(0));
        assertThrows(IllegalArgumentException.class, () -> b.queueCapacity(1));
        assertThrows(IllegalArgumentException.class, () -> b.submitTimeout(Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> b.rejection(null));
        assertThrows(NullPointerException.class, () -> b.listener(null));
        assertThrows(NullPointerException.class, () -> b.threadFactory(null));
        WorkerPool pool = pool(WorkerPool.builder().threads(1));
        assertThrows(NullPointerException.class, () -> pool.execute(null));
        assertThrows(NullPointerException.class, () -> pool.offer(null));
        assertThrows(NullPointerException.class, () -> pool.awaitTermination(null));
    }

    @Test
    void aFailedTaskIsLoggedUnlessAListenerTakesFailures() throws Exception {
        WorkerPool.Listener rejectionsOnly = new WorkerPool.Listener() {
            @Override
            public void onTaskRejected(WorkerPool pool, Runnable task) {
            }
        };
        java.util.List<Throwable> taken = new java.util.concurrent.CopyOnWriteArrayList<>();
        WorkerPool.Listener failures = new WorkerPool.Listener() {
            @Override
            public void onTaskFailed(WorkerPool pool, Runnable task, Throwable error) {
                taken.add(error);
            }
        };
        for (boolean takesFailures : new boolean[] {false, true}) {
            try (CapturedLog log = CapturedLog.of(WorkerPool.class)) {
                WorkerPool.Builder b = WorkerPool.builder().name("logs").threads(1).listener(rejectionsOnly);
                if (takesFailures) {
                    b.listener(failures);
                }
                WorkerPool pool = b.build();
                pool.execute(() -> {
                    throw new IllegalStateException("task bug");
                });
                pool.shutdown();
                assertTrue(pool.awaitTermination(java.time.Duration.ofSeconds(10)));
                assertEquals(!takesFailures, log.has(java.util.logging.Level.WARNING, "a task failed"),
                        "logged only while no listener takes failures (takesFailures=" + takesFailures + ")");
            }
        }
        assertEquals(1, taken.size());
    }
}
