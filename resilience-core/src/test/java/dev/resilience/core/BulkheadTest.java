package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Slots are bounded and always come back, however the call ends. */
class BulkheadTest {

    private final ManualTicker ticker = new ManualTicker();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    /** The last permit taken: a bulkhead's granted permit is shared, so any one gives a slot back. */
    private Permit held;

    /** {@code b.call} returning "got it", on a thread of the pool (so it can wait for a slot). */
    private CompletableFuture<String> callOnAnotherThread(Bulkhead b) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return b.call(() -> "got it");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, pool);
    }

    private Bulkhead bulkhead(int max, Duration wait) {
        return Bulkhead.builder("b").maxConcurrent(max).maxWait(wait).ticker(ticker).build();
    }

    @Test
    void admitsUpToMaxConcurrent() {
        Bulkhead b = bulkhead(2, Duration.ZERO);
        assertTrue((held = b.tryAcquire()).isPermitted());
        assertTrue((held = b.tryAcquire()).isPermitted());
        assertFalse(b.tryAcquire().isPermitted());
        assertEquals(2, b.inUse());
        assertEquals(0, b.available());
        held.release();
        assertTrue((held = b.tryAcquire()).isPermitted());
        held.release();
        held.release();
        assertEquals(0, b.inUse());
        assertThrows(IllegalStateException.class, held::release, "release without acquire is a bug");
        assertEquals(0, b.inUse());
    }

    @Test
    void callReleasesOnSuccessAndOnException() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ZERO);
        assertEquals("ok", b.call(() -> "ok"));
        assertEquals(0, b.inUse());
        IllegalStateException own = new IllegalStateException("own");
        assertSame(own, assertThrows(IllegalStateException.class, () -> b.call(() -> {
            throw own;
        })));
        assertEquals(0, b.inUse());
        AtomicInteger ran = new AtomicInteger();
        b.run(ran::incrementAndGet);
        assertEquals(1, ran.get());
        assertEquals(0, b.inUse());
    }

    @Test
    void fullBulkheadWithoutWaitRejectsAtOnce() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ZERO);
        assertTrue((held = b.tryAcquire()).isPermitted());
        RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, () -> b.call(() -> "x"));
        assertEquals(RequestNotPermittedException.Reason.BULKHEAD_FULL, e.reason());
        assertEquals(0, e.getStackTrace().length);
        assertEquals(1, b.inUse());
    }

    @Test
    void waiterGetsTheSlotWhenReleased() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ofSeconds(5));
        assertTrue((held = b.tryAcquire()).isPermitted());
        CompletableFuture<String> waiting = callOnAnotherThread(b);
        awaitWaiting(b, 1);
        held.release();
        assertEquals("got it", waiting.get(10, TimeUnit.SECONDS));
        assertEquals(0, b.inUse());
    }

    @Test
    void aWaiterGetsASlotWhenTheBulkheadGrows() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ofSeconds(30));
        assertTrue((held = b.tryAcquire()).isPermitted());
        CompletableFuture<String> waiting = callOnAnotherThread(b);
        awaitWaiting(b, 1);
        b.setMaxConcurrent(2);
        assertEquals("got it", waiting.get(10, TimeUnit.SECONDS), "woken by the resize, not by a release");
        assertEquals(1, b.inUse());
        assertEquals(2, b.maxConcurrent());
        b.setMaxConcurrent(1);
        assertFalse(b.tryAcquire().isPermitted(), "the held slot fills the smaller bulkhead");
        held.release();
        assertEquals(0, b.inUse());
        assertThrows(IllegalArgumentException.class, () -> b.setMaxConcurrent(0));
    }

    @Test
    void waitEndsAtMaxWait() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ofMillis(10));
        assertTrue((held = b.tryAcquire()).isPermitted());
        CompletableFuture<Throwable> failure = failureOf(() -> {
            b.acquire();
            return null;
        });
        awaitWaiting(b, 1);
        ticker.advance(Duration.ofMillis(10));
        RequestNotPermittedException e =
                assertInstanceOf(RequestNotPermittedException.class, failure.get(10, TimeUnit.SECONDS));
        assertEquals(RequestNotPermittedException.Reason.BULKHEAD_FULL, e.reason());
        assertEquals(1, b.inUse(), "the timed-out waiter took nothing");
        assertEquals(0, b.waiting());
    }

    @Test
    void waitEndsAtTheContextDeadline() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ofSeconds(30));
        assertTrue((held = b.tryAcquire()).isPermitted());
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(20), ticker);
        CompletableFuture<Throwable> failure = failureOf(h.context().wrap(() -> {
            b.acquire();
            return null;
        }));
        awaitWaiting(b, 1);
        ticker.advance(Duration.ofMillis(20));
        assertInstanceOf(DeadlineExceededException.class, failure.get(10, TimeUnit.SECONDS));
        assertEquals(1, b.inUse());
    }

    @Test
    void cancelledWaiterDoesNotLeakAPermitAndPassesTheWakeUpOn() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ofSeconds(30));
        assertTrue((held = b.tryAcquire()).isPermitted());
        CancelHandle h = Context.background().withCancel();
        CompletableFuture<Throwable> cancelled = failureOf(h.context().wrap(() -> {
            b.acquire();
            return null;
        }));
        awaitWaiting(b, 1);
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> {
            try {
                return b.call(() -> "second");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, pool);
        awaitWaiting(b, 2);
        h.cancel();
        assertInstanceOf(ContextCancelledException.class, cancelled.get(10, TimeUnit.SECONDS));
        held.release();
        assertEquals("second", second.get(10, TimeUnit.SECONDS));
        assertEquals(0, b.inUse(), "no permit leaked");
    }

    @Test
    void interruptedWaiterTakesNothing() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ofSeconds(30));
        assertTrue((held = b.tryAcquire()).isPermitted());
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<Throwable> failure = failureOf(() -> {
            t.set(Thread.currentThread());
            b.acquire();
            return null;
        });
        awaitWaiting(b, 1);
        t.get().interrupt();
        assertInstanceOf(InterruptedException.class, failure.get(10, TimeUnit.SECONDS));
        assertEquals(1, b.inUse());
    }

    @Test
    void asyncReleasesOnCompletionFailureAndCancellation() throws Exception {
        Bulkhead b = bulkhead(1, Duration.ZERO);
        CompletableFuture<String> work = new CompletableFuture<>();
        CompletableFuture<String> result = b.callAsync(() -> work).toCompletableFuture();
        assertEquals(1, b.inUse());
        assertTrue(b.callAsync(() -> CompletableFuture.completedFuture("x")).toCompletableFuture()
                .isCompletedExceptionally(), "full: the async form does not wait");
        work.complete("done");
        assertEquals("done", result.get());
        assertEquals(0, b.inUse());

        CompletableFuture<String> failing = new CompletableFuture<>();
        CompletableFuture<String> r2 = b.callAsync(() -> failing).toCompletableFuture();
        failing.completeExceptionally(new IllegalStateException("boom"));
        assertTrue(r2.isCompletedExceptionally());
        assertEquals(0, b.inUse());

        CompletableFuture<String> never = new CompletableFuture<>();
        CompletableFuture<String> r3 = b.callAsync(() -> never).toCompletableFuture();
        assertEquals(1, b.inUse());
        r3.cancel(true);
        assertEquals(0, b.inUse(), "cancelling the returned stage gives the slot back");
        never.complete("late");
        assertEquals(0, b.inUse(), "and only once");

        CompletableFuture<String> r4 = b.<String>callAsync(() -> {
            throw new IllegalStateException("supplier threw");
        }).toCompletableFuture();
        assertTrue(r4.isCompletedExceptionally());
        assertEquals(0, b.inUse());
    }

    /**
     * A release that wakes a waiter while the waiter's first wait on its context arms the context's
     * deadline timer (under the shared scheduler's lock, whose park can use up the unpark) must not
     * be lost: the waiter gets the slot at once, not when its 60 s wait ends. The cancellation side
     * of the same race is in the context module's ContextStressTest.
     */
    @Test
    void aReleaseRacingTheWaitersFirstListenHandsOverTheSlot() throws Exception {
        Bulkhead b = Bulkhead.builder("race").maxConcurrent(1).maxWait(Duration.ofSeconds(60)).build();
        ExecutorService worker = Executors.newSingleThreadExecutor();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread churn = new Thread(() -> { // other requests arming and dropping timers: the lock is contended
            while (!stop.get()) {
                CancelHandle other = Context.background().withTimeout(Duration.ofSeconds(30));
                other.context().onDone(() -> { }, Runnable::run);
                other.cancel();
            }
        });
        churn.start();
        try {
            for (int round = 0; round < 10_000; round++) {
                Permit held = b.tryAcquire();
                assertTrue(held.isPermitted());
                CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(30)); // not yet listened to
                CountDownLatch started = new CountDownLatch(1);
                java.util.concurrent.Future<Permit> got = worker.submit(() -> {
                    try (Scope s = h.context().attach()) {
                        started.countDown();
                        return b.acquire();
                    }
                });
                started.await();
                for (int spin = round % 64; spin > 0; spin--) {
                    Thread.onSpinWait(); // spreads the release over the waiter's path into its wait
                }
                held.release();
                Permit p = got.get(10, TimeUnit.SECONDS);
                assertTrue(p.isPermitted(), "round " + round);
                p.release();
                h.cancel();
            }
            assertEquals(0, b.inUse());
            assertEquals(0, b.waiting());
        } finally {
            stop.set(true);
            churn.join();
            worker.shutdownNow();
        }
    }

    @Test
    void concurrentCallsNeverExceedTheLimitAndCountersAddUp() throws Exception {
        Bulkhead b = Bulkhead.builder("stress").maxConcurrent(3).maxWait(Duration.ofSeconds(30)).build();
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        int threads = 8;
        int perThread = 2_000;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            pool.execute(() -> {
                try {
                    for (int i = 0; i < perThread; i++) {
                        b.call(() -> {
                            int c = concurrent.incrementAndGet();
                            maxSeen.accumulateAndGet(c, Math::max);
                            Thread.yield();
                            concurrent.decrementAndGet();
                            return completed.incrementAndGet();
                        });
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                } finally {
                    done.countDown();
                }
            });
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        assertEquals(threads * perThread, completed.get());
        assertTrue(maxSeen.get() <= 3, "max concurrent seen " + maxSeen.get());
        assertEquals(0, b.inUse());
        assertEquals(0, b.waiting());
    }

    @Test
    void listenerSeesEvents() {
        List<String> events = new ArrayList<>();
        Bulkhead b = Bulkhead.builder("l").maxConcurrent(1).listener(new BulkheadListener() {
            @Override
            public void onPermitted(Bulkhead bulkhead, long waitedNanos) {
                events.add("permitted");
            }

            @Override
            public void onRejected(Bulkhead bulkhead) {
                events.add("rejected");
            }

            @Override
            public void onReleased(Bulkhead bulkhead) {
                events.add("released");
            }
        }).build();
        held = b.tryAcquire();
        b.tryAcquire();
        held.release();
        assertEquals(List.of("permitted", "rejected", "released"), events);
    }

    @Test
    void badArguments() {
        assertEquals("name", assertThrows(NullPointerException.class, () -> Bulkhead.builder(null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bulkhead.builder("x").maxConcurrent(0));
        assertThrows(IllegalArgumentException.class, () -> Bulkhead.builder("x").maxWait(Duration.ofNanos(-1)));
        assertThrows(IllegalStateException.class, () -> Bulkhead.builder("x").maxConcurrent(1).maxConcurrent(2));
        assertThrows(IllegalStateException.class, () -> Bulkhead.builder("x").build());
        assertEquals("maxWait",
                assertThrows(NullPointerException.class, () -> Bulkhead.builder("x").maxWait(null)).getMessage());
        Bulkhead b = bulkhead(1, Duration.ZERO);
        assertEquals("task", assertThrows(NullPointerException.class, () -> b.call(null)).getMessage());
    }

    private CompletableFuture<Throwable> failureOf(java.util.concurrent.Callable<?> task) {
        CompletableFuture<Throwable> f = new CompletableFuture<>();
        pool.execute(() -> {
            try {
                task.call();
                f.complete(null);
            } catch (Throwable e) {
                f.complete(e);
            }
        });
        return f;
    }

    private static void awaitWaiting(Bulkhead b, int n) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.waiting() < n) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("waiting " + b.waiting() + " < " + n);
            }
            Thread.onSpinWait();
        }
    }
}
