package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The timers' hand-offs under a hostile environment: a blocked common pool, throwing actions and executors. */
class TimerRobustnessTest {

    /** A task that says it started, then blocks until {@code release} opens (30 s at most). */
    private static Runnable blocker(CountDownLatch started, CountDownLatch release) {
        return () -> {
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    @Test
    void deadlinesAndDelaysFireWhileTheCommonPoolIsBlocked() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        int blockers = ForkJoinPool.getCommonPoolParallelism() * 2 + 1;
        CountDownLatch blocking = new CountDownLatch(ForkJoinPool.getCommonPoolParallelism());
        for (int i = 0; i < blockers; i++) { // a parallel stream's or a careless library's blocked tasks
            ForkJoinPool.commonPool().execute(blocker(blocking, release));
        }
        try {
            assertTrue(blocking.await(10, TimeUnit.SECONDS), "the common pool's workers are blocked");
            CountDownLatch expired = new CountDownLatch(1);
            CountDownLatch delayed = new CountDownLatch(1);
            long start = System.nanoTime();
            try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(20))) {
                h.context().onDone(expired::countDown, Runnable::run);
                Delays.schedule(Ticker.system(), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20), delayed::countDown);
                assertTrue(expired.await(2, TimeUnit.SECONDS), "the deadline fired with the common pool blocked");
                assertTrue(delayed.await(2, TimeUnit.SECONDS), "the delayed action ran with the common pool blocked");
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2));
                assertTrue(h.context().err() instanceof DeadlineExceededException);
            }
        } finally {
            release.countDown();
        }
    }

    @Test
    void aWaitEndsAtItsDeadlineWhileCallbacksRunInlineBlockEveryDeadlineThread() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(Timers.DEADLINE_THREADS);
        List<CancelHandle> blockers = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < Timers.DEADLINE_THREADS * 2; i++) { // callbacks that block, run inline by the deadline threads
                CancelHandle h = Context.background().withTimeout(Duration.ofMillis(5));
                h.context().onDone(blocker(blocked, release), Runnable::run);
                blockers.add(h);
            }
            // JDK 17: the 4 deadline threads block in callbacks; JDK 21+: virtual threads, which all block
            assertTrue(blocked.await(10, TimeUnit.SECONDS), "the callbacks block the threads that run them");
            CancelHandle request = Context.background().withTimeout(Duration.ofMillis(100));
            long start = System.nanoTime();
            WaitResult r = request.context().waitUntil(Ticker.system(), start + TimeUnit.SECONDS.toNanos(20));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(WaitResult.DEADLINE_EXCEEDED, r);
            assertTrue(tookMs < 2_000, "woke at its 100 ms deadline, not at the wait's 20 s bound: " + tookMs + " ms");
        } finally {
            release.countDown();
        }
    }

    @Test
    void deadlinesFireWhileDelayedActionsBlockEveryThreadTheyHave() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        int blockers = Timers.INTERNAL_THREADS + 6; // delayed actions that start user code which blocks (a retry's attempt)
        CountDownLatch started = new CountDownLatch(1);
        Thread test = Thread.currentThread();
        long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        for (int i = 0; i < blockers; i++) {
            Delays.schedule(Ticker.system(), at, () -> {
                if (Thread.currentThread() == test) {
                    // Due before this loop ended (a slow machine): Delays ran it here, as it should. It
                    // must not block this thread, which counts the latch down only after the loop.
                    return;
                }
                started.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            assertTrue(started.await(10, TimeUnit.SECONDS), "the delayed actions run and block");
            CountDownLatch expired = new CountDownLatch(1);
            try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(20))) {
                h.context().onDone(expired::countDown, Runnable::run);
                assertTrue(expired.await(2, TimeUnit.SECONDS), "the deadline fired beside them");
            }
        } finally {
            release.countDown();
        }
    }

    @Test
    void aThrowingActionDoesNotKeepTheOtherDueActionsOfAManualTickerFromRunning() {
        ManualTicker ticker = new ManualTicker();
        AtomicInteger ran = new AtomicInteger();
        IllegalStateException boom = new IllegalStateException("boom");
        Delays.schedule(ticker, 10, () -> {
            throw boom;
        });
        Delays.schedule(ticker, 10, ran::incrementAndGet);
        CancelHandle h = Context.background().withTimeout(Duration.ofNanos(10), ticker);
        CountDownLatch expired = new CountDownLatch(1);
        h.context().onDone(expired::countDown, Runnable::run);
        assertSame(boom, assertThrows(IllegalStateException.class, () -> ticker.advance(10)), "the first failure comes out");
        assertEquals(1, ran.get(), "the other due action ran");
        assertEquals(0, expired.getCount(), "and the deadline fired");
        assertTrue(h.context().err() instanceof DeadlineExceededException);
    }

    @Test
    void actionsThrowingManyExceptionsAddAFewToTheFirstAndAConstantNoneToItself() {
        ManualTicker ticker = new ManualTicker();
        IllegalStateException shared = new IllegalStateException("shared");
        for (int i = 0; i < 10; i++) {
            Delays.schedule(ticker, 10, () -> {
                throw shared;
            });
        }
        assertSame(shared, assertThrows(IllegalStateException.class, () -> ticker.advance(10)));
        assertEquals(0, shared.getSuppressed().length, "never suppressed into itself");
        IllegalStateException first = new IllegalStateException("first");
        Delays.schedule(ticker, 20, () -> {
            throw first;
        });
        for (int i = 0; i < 10; i++) {
            int n = i;
            Delays.schedule(ticker, 20, () -> {
                throw new IllegalStateException("later " + n);
            });
        }
        assertSame(first, assertThrows(IllegalStateException.class, () -> ticker.advance(10)));
        assertEquals(4, first.getSuppressed().length, "4 of the 10 later ones");
    }

    @Test
    void aCheckedExceptionThrownPastRunComesOutOfAdvanceAsItWasThrown() {
        ManualTicker ticker = new ManualTicker();
        java.io.IOException checked = new java.io.IOException("checked, thrown past run()");
        AtomicInteger ran = new AtomicInteger();
        Delays.schedule(ticker, 10, () -> dev.resilience.context.internal.Suppression.rethrow(checked));
        Delays.schedule(ticker, 10, ran::incrementAndGet);
        Throwable thrown = assertThrows(Throwable.class, () -> ticker.advance(10));
        assertSame(checked, thrown, "not wrapped");
        assertEquals(1, ran.get(), "the other due action ran");
    }

    @Test
    void aCallbackWhoseExecutorRanItAndThenThrewRunsOnce() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CancelHandle h = Context.background().withCancel();
        h.context().onDone(runs::incrementAndGet, task -> { // accepted, ran, then failed: as a pool that queued it and could not start a thread
            task.run();
            throw new RejectedExecutionException("no thread");
        });
        h.cancel();
        assertEquals(1, runs.get());
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        while (System.nanoTime() < until) { // the fallback executor would run a second copy on another thread
            assertEquals(1, runs.get(), "the callback ran twice");
            Thread.onSpinWait();
        }
    }
}
