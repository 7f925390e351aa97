package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * Registration, withdrawal, child linking and cancellation racing on several threads: every
 * callback runs exactly once unless it was withdrawn first, and every descendant ends done.
 */
class ContextStressTest {

    private static final int ROUNDS = 300;
    private static final int THREADS = 4;
    private static final int PER_THREAD = 400;

    /**
     * A waiter's first listen arms its context's deadline timer under the shared scheduler's lock;
     * a cancellation that fires the waiter meanwhile must still end the wait. Found by
     * PropagationTest timing out once in a full build; this loop lost it 6 times in 20,000 before the
     * fix (Context.parkUntil does not park after a listen that may have parked), 0 in 80,000 after.
     */
    @Test
    void aCancellationRacingTheWaitersFirstListenEndsTheWait() throws Exception {
        java.util.concurrent.ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            for (int round = 0; round < 10_000; round++) {
                CancelHandle h = Context.background().withTimeout(java.time.Duration.ofSeconds(30));
                java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
                java.util.concurrent.Future<WaitResult> result = worker.submit(() -> {
                    started.countDown();
                    return h.context().waitUntil(Ticker.system(), System.nanoTime() + 60_000_000_000L);
                });
                started.await();
                h.cancel();
                assertEquals(WaitResult.CANCELLED, result.get(10, java.util.concurrent.TimeUnit.SECONDS), "round " + round);
            }
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    void callbacksRunExactlyOnceOrAreWithdrawnUnderRacingCancel() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            CancelHandle root = Context.background().withCancel();
            int total = THREADS * PER_THREAD;
            AtomicIntegerArray runs = new AtomicIntegerArray(total);
            AtomicIntegerArray withdrawn = new AtomicIntegerArray(total);
            List<Context> children = java.util.Collections.synchronizedList(new ArrayList<>());
            CyclicBarrier start = new CyclicBarrier(THREADS + 1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int base = t * PER_THREAD;
                Thread th = new Thread(() -> {
                    await(start);
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < PER_THREAD; i++) {
                        int id = base + i;
                        Context target = root.context();
                        if (rnd.nextBoolean()) {
                            CancelHandle child = root.context().withCancel();
                            children.add(child.context());
                            target = child.context();
                        }
                        Registration r = target.onDone(() -> runs.incrementAndGet(id), Runnable::run);
                        if (rnd.nextInt(3) == 0 && r.remove()) {
                            withdrawn.incrementAndGet(id);
                        }
                    }
                });
                th.start();
                threads.add(th);
            }
            await(start);
            if (round % 2 == 0) {
                Thread.yield();
            }
            root.cancel();
            for (Thread th : threads) {
                th.join();
            }
            for (int id = 0; id < total; id++) {
                assertEquals(1, runs.get(id) + withdrawn.get(id),
                        "round " + round + " id " + id + ": runs " + runs.get(id) + " withdrawn " + withdrawn.get(id));
            }
            for (Context c : children) {
                assertTrue(c.isDone());
            }
        }
    }

    @Test
    void concurrentCancelsAgreeOnOneCause() throws Exception {
        for (int round = 0; round < 2_000; round++) {
            CancelHandle h = Context.background().withCancel();
            AtomicInteger fired = new AtomicInteger();
            h.context().onDone(fired::incrementAndGet, Runnable::run);
            RuntimeException a = new RuntimeException("a");
            RuntimeException b = new RuntimeException("b");
            Thread ta = new Thread(() -> h.cancel(a));
            Thread tb = new Thread(() -> h.cancel(b));
            ta.start();
            tb.start();
            ta.join();
            tb.join();
            Throwable cause = h.context().cause();
            assertTrue(cause == a || cause == b);
            assertEquals(1, fired.get());
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
