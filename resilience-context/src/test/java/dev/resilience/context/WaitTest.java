package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Parking until a ticker time, and waking early when the context is done. */
class WaitTest {

    private final ManualTicker ticker = new ManualTicker();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    /** Starts {@code park} on a new thread and returns the thread and its result. */
    private CompletableFuture<WaitResult> parkOnAnotherThread(Context ctx, Ticker t, long wakeAt,
            AtomicReference<Thread> thread) {
        CompletableFuture<WaitResult> result = new CompletableFuture<>();
        pool.execute(() -> {
            thread.set(Thread.currentThread());
            result.complete(ctx.waitUntil(t, wakeAt));
        });
        while (thread.get() == null) {
            Thread.onSpinWait();
        }
        return result;
    }

    @Test
    void wakesWhenManualTickerReachesTheTime() throws Exception {
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<WaitResult> r = parkOnAnotherThread(Context.background(), ticker, 1_000, t);
        TestThreads.awaitBlocked(t.get());
        ticker.advance(999);
        assertFalse(r.isDone(), "still parked 1 ns before its time");
        ticker.advance(1);
        assertEquals(WaitResult.ELAPSED, r.get(10, TimeUnit.SECONDS));
    }

    @Test
    void returnsAtOnceWhenTheTimeHasPassed() {
        ticker.advance(10);
        assertEquals(WaitResult.ELAPSED, Context.background().parkUntil(ticker, 10));
        assertEquals(WaitResult.ELAPSED, Context.background().parkUntil(ticker, 5));
    }

    @Test
    void cancellationWakesTheWaiter() throws Exception {
        CancelHandle h = Context.background().withCancel();
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<WaitResult> r = parkOnAnotherThread(h.context(), ticker, Long.MAX_VALUE / 2, t);
        TestThreads.awaitBlocked(t.get());
        h.cancel();
        assertEquals(WaitResult.CANCELLED, r.get(10, TimeUnit.SECONDS));
    }

    @Test
    void parentCancellationWakesAWaiterOnAChild() throws Exception {
        CancelHandle parent = Context.background().withCancel();
        Context child = parent.context().withValue(Context.Key.named("x"), 1).withCancel().context();
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<WaitResult> r = parkOnAnotherThread(child, ticker, Long.MAX_VALUE / 2, t);
        TestThreads.awaitBlocked(t.get());
        parent.cancel();
        assertEquals(WaitResult.CANCELLED, r.get(10, TimeUnit.SECONDS));
    }

    @Test
    void deadlineOnAnotherTickerWakesTheWaiter() throws Exception {
        ManualTicker deadlineClock = new ManualTicker();
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(50), deadlineClock);
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<WaitResult> r = parkOnAnotherThread(h.context(), ticker, 1_000_000_000L, t);
        TestThreads.awaitBlocked(t.get());
        deadlineClock.advance(Duration.ofMillis(50));
        assertEquals(WaitResult.DEADLINE_EXCEEDED, r.get(10, TimeUnit.SECONDS));
    }

    @Test
    void systemDeadlineWakesTheWaiterBeforeItsOwnTime() {
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(20));
        long start = System.nanoTime();
        WaitResult r = h.context().waitUntil(Ticker.system(), start + TimeUnit.SECONDS.toNanos(30));
        assertEquals(WaitResult.DEADLINE_EXCEEDED, r);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "woke on the deadline, not at 30 s");
    }

    @Test
    void systemTickerWaitElapses() {
        long start = System.nanoTime();
        long wakeAt = start + TimeUnit.MILLISECONDS.toNanos(5);
        assertEquals(WaitResult.ELAPSED, Context.background().waitUntil(Ticker.system(), wakeAt));
        assertTrue(System.nanoTime() - wakeAt >= 0);
    }

    @Test
    void interruptIsReportedAndLeftSet() throws Exception {
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<Boolean> flagAfter = new CompletableFuture<>();
        CompletableFuture<WaitResult> r = new CompletableFuture<>();
        pool.execute(() -> {
            t.set(Thread.currentThread());
            r.complete(Context.background().waitUntil(ticker, 1_000));
            flagAfter.complete(Thread.interrupted());
        });
        while (t.get() == null) {
            Thread.onSpinWait();
        }
        TestThreads.awaitBlocked(t.get());
        t.get().interrupt();
        assertEquals(WaitResult.INTERRUPTED, r.get(10, TimeUnit.SECONDS));
        assertTrue(flagAfter.get(10, TimeUnit.SECONDS));
    }

    @Test
    void sleepUntilReportsEveryOtherEndingAsAnException() throws Exception {
        ticker.advance(10);
        Context.background().sleepUntil(ticker, 10);
        CancelHandle cancelled = Context.background().withCancel();
        cancelled.cancel();
        org.junit.jupiter.api.Assertions.assertThrows(ContextCancelledException.class,
                () -> cancelled.context().sleepUntil(ticker, 1_000));
        CancelHandle expired = Context.background().withTimeout(java.time.Duration.ZERO, ticker);
        org.junit.jupiter.api.Assertions.assertThrows(DeadlineExceededException.class,
                () -> expired.context().sleepUntil(ticker, 1_000));
        Thread.currentThread().interrupt();
        org.junit.jupiter.api.Assertions.assertThrows(InterruptedException.class,
                () -> Context.background().sleepUntil(ticker, 1_000));
        assertFalse(Thread.currentThread().isInterrupted(), "the interrupt status is cleared with the exception");
    }

    @Test
    void unparkReportsWokenToParkUntil() throws Exception {
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<WaitResult> r = new CompletableFuture<>();
        pool.execute(() -> {
            t.set(Thread.currentThread());
            r.complete(Context.background().parkUntil(ticker, 1_000));
        });
        while (t.get() == null) {
            Thread.onSpinWait();
        }
        TestThreads.awaitBlocked(t.get());
        LockSupport.unpark(t.get());
        assertEquals(WaitResult.WOKEN, r.get(10, TimeUnit.SECONDS));
    }

    @Test
    void waitingLeavesNoListenerOrTimerBehind() {
        CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(5), ticker);
        for (int i = 1; i <= 100; i++) {
            assertEquals(WaitResult.ELAPSED, h.context().parkUntil(ticker, ticker.read()));
        }
        CancelHandle parent = Context.background().withCancel();
        Context child = parent.context().withCancel().context();
        for (int i = 0; i < 100; i++) {
            long wakeAt = ticker.read() + 1;
            pool.execute(() -> ticker.advance(1));
            child.waitUntil(ticker, wakeAt);
        }
        assertTrue(parent.listenerCellCount() <= 1, "the child linked once: " + parent.listenerCellCount());
        assertEquals(0, ticker.pendingCount() - (h.timerArmed() ? 1 : 0));
    }

    @Test
    void attachInterruptiblyInterruptsBlockingCallsAndClearsOnClose() throws Exception {
        CancelHandle h = Context.background().withCancel();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        CompletableFuture<Boolean> interruptedAfterClose = new CompletableFuture<>();
        AtomicReference<Thread> t = new AtomicReference<>();
        pool.execute(() -> {
            t.set(Thread.currentThread());
            try (Scope s = h.context().attachInterruptibly()) {
                new LinkedBlockingQueue<String>().take();
                failure.complete(null);
            } catch (Throwable e) {
                failure.complete(e);
            }
            interruptedAfterClose.complete(Thread.currentThread().isInterrupted());
        });
        while (t.get() == null) {
            Thread.onSpinWait();
        }
        TestThreads.awaitBlocked(t.get());
        h.cancel();
        assertTrue(failure.get(10, TimeUnit.SECONDS) instanceof InterruptedException);
        assertFalse(interruptedAfterClose.get(10, TimeUnit.SECONDS));
    }

    @Test
    void attachInterruptiblyAfterCloseNeverInterrupts() {
        CancelHandle h = Context.background().withCancel();
        try (Scope s = h.context().attachInterruptibly()) {
            assertFalse(Thread.currentThread().isInterrupted());
        }
        h.cancel();
        assertFalse(Thread.interrupted(), "a closed scope's interrupt was withdrawn");
    }
}
