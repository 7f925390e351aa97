package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Go {@code context} semantics the README promises, at sizes a recursive implementation cannot
 * take: 100,000 levels and 100,000 siblings; Go's order of events for cancellations and deadlines;
 * exhausted timeouts; {@code WithTimeoutCause}/{@code WithDeadlineCause}; {@code AfterFunc}
 * callbacks that cannot hold up the canceller, the timer or each other.
 */
class ContextGoConformanceTest {

    private static final int DEEP = 100_000;
    private final ManualTicker ticker = new ManualTicker();

    private static List<CancelHandle> chain(CancelHandle root, int levels) {
        List<CancelHandle> chain = new ArrayList<>(levels);
        CancelHandle h = root;
        for (int i = 0; i < levels; i++) {
            h = h.context().withCancel();
            chain.add(h);
        }
        return chain;
    }

    @Test
    void aChainOf100000LevelsLinksWaitsAndCancelsWithoutGrowingTheStack() throws Exception {
        CancelHandle root = Context.background().withCancel();
        List<CancelHandle> chain = chain(root, DEEP);
        CancelHandle bottom = chain.get(DEEP - 1);
        AtomicInteger fired = new AtomicInteger();
        bottom.context().onDone(fired::incrementAndGet, Runnable::run); // links all the way up
        AtomicReference<WaitResult> waited = new AtomicReference<>();
        Thread waiter = new Thread(() -> waited.set(bottom.context().waitUntil(Ticker.system(), System.nanoTime()
                + TimeUnit.MINUTES.toNanos(1))));
        waiter.start();
        awaitParked(waiter);
        root.cancel();
        waiter.join(10_000);
        assertEquals(WaitResult.CANCELLED, waited.get());
        assertEquals(1, fired.get());
        assertTrue(bottom.context().isDone());
        assertEquals(0, root.listenerCellCount(), "nothing retained on the root");
    }

    @Test
    void aListenerOnEachOf100000LevelsFiresOnceFromTheRootOrTheMiddle() {
        CancelHandle root = Context.background().withCancel();
        List<CancelHandle> chain = chain(root, DEEP);
        AtomicIntegerArray fired = new AtomicIntegerArray(DEEP);
        for (int i = 0; i < DEEP; i++) {
            int level = i;
            chain.get(i).context().onDone(() -> fired.incrementAndGet(level), Runnable::run);
        }
        int middle = DEEP / 2;
        chain.get(middle).cancel();
        for (int i = 0; i < DEEP; i++) {
            assertEquals(i >= middle ? 1 : 0, fired.get(i), "level " + i + " after cancelling the middle");
        }
        root.cancel();
        for (int i = 0; i < DEEP; i++) {
            assertEquals(1, fired.get(i), "level " + i + " fired once");
        }
        for (CancelHandle h : chain) {
            assertEquals(0, h.listenerCellCount());
        }
        assertEquals(0, root.listenerCellCount());
    }

    @Test
    void oneHundredThousandSiblingsWithListenersAllFireOnceAndNothingIsRetained() {
        CancelHandle root = Context.background().withCancel();
        AtomicInteger fired = new AtomicInteger();
        List<CancelHandle> children = new ArrayList<>(DEEP);
        for (int i = 0; i < DEEP; i++) {
            CancelHandle child = root.context().withCancel();
            child.context().onDone(fired::incrementAndGet, Runnable::run);
            children.add(child);
        }
        for (int i = 0; i < DEEP; i += 2) {
            children.get(i).cancel(); // half of them end on their own: they unlink from the root
        }
        assertEquals(DEEP / 2, fired.get());
        assertTrue(root.listenerCellCount() <= DEEP / 2 + 16, "ended children are compacted away: "
                + root.listenerCellCount());
        root.cancel();
        assertEquals(DEEP, fired.get(), "every listener fired once");
        assertEquals(0, root.listenerCellCount());
    }

    @Test
    void aParentCancelledFirstDecidesTheCauseOfAnUnobservedChild() {
        RuntimeException p = new RuntimeException("parent");
        RuntimeException ch = new RuntimeException("child");
        CancelHandle parent = Context.background().withCancel();
        CancelHandle child = parent.context().withCancel(); // nothing listens: not linked
        parent.cancel(p);
        child.cancel(ch);
        assertSame(p, child.context().cause(), "the parent's cancellation reached the child first, as in Go");
        CancelHandle grandchild = chain(parent, 3).get(2);
        grandchild.cancel(ch);
        assertSame(p, grandchild.context().cause());
    }

    @Test
    void anObservedParentDeadlineWinsOverALaterChildCancel() {
        CancelHandle parent = Context.background().withTimeout(Duration.ofMillis(10), ticker);
        CancelHandle child = parent.context().withCancel();
        ticker.advance(Duration.ofMillis(10));
        assertTrue(parent.context().isDone(), "observed");
        child.cancel();
        assertInstanceOf(DeadlineExceededException.class, child.context().err());
    }

    @Test
    void anExhaustedTimeoutIsADoneContextNotAnError() {
        Duration remaining = Duration.ofMillis(-250); // "upstream deadline minus now", upstream already gone
        CancelHandle h = Context.background().withTimeout(remaining, ticker);
        assertTrue(h.context().isDone());
        assertInstanceOf(DeadlineExceededException.class, h.context().err());
        assertEquals(Duration.ZERO, h.context().remaining().orElseThrow());
        CancelHandle zero = Context.background().withTimeout(Duration.ZERO);
        zero.cancel();
        assertInstanceOf(DeadlineExceededException.class, zero.context().err(), "Go: WithTimeout(0) then cancel()");
        CancelHandle past = Context.background().withDeadline(Deadline.at(ticker.read() - 1, ticker));
        past.cancel();
        assertInstanceOf(DeadlineExceededException.class, past.context().err());
        AtomicInteger fired = new AtomicInteger();
        h.context().onDone(fired::incrementAndGet, Runnable::run);
        assertEquals(1, fired.get(), "a callback on a done context runs at once");
    }

    @Test
    void timeoutAndDeadlineCausesAreReportedByCauseWhileErrIsDeadlineExceeded() {
        IllegalStateException slow = new IllegalStateException("inventory too slow");
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(30), ticker);
        CancelHandle caused = h.context().withTimeoutCause(Duration.ofMillis(20), slow);
        CancelHandle below = caused.context().withCancel();
        ticker.advance(Duration.ofMillis(20));
        assertInstanceOf(DeadlineExceededException.class, caused.context().err());
        assertSame(slow, caused.context().cause());
        assertSame(slow, below.context().cause(), "children see the cause of what ended them");
        DeadlineExceededException thrown = org.junit.jupiter.api.Assertions.assertThrows(DeadlineExceededException.class,
                caused.context()::throwIfDone);
        assertSame(slow, thrown.getCause());

        RuntimeException late = new RuntimeException("deadline cause");
        CancelHandle d = Context.background().withDeadlineCause(Deadline.at(ticker.read() + 5, ticker), late);
        RuntimeException why = new RuntimeException("cancelled first");
        d.cancel(why);
        assertSame(why, d.context().cause(), "a cancellation before the deadline keeps its own cause");
        CancelHandle d2 = Context.background().withDeadlineCause(Deadline.at(ticker.read() + 5, ticker), late);
        ticker.advance(Duration.ofMillis(5));
        assertSame(late, d2.context().cause());
        CancelHandle exhausted = Context.background().withTimeoutCause(Duration.ZERO, late);
        assertSame(late, exhausted.context().cause());
    }

    @Test
    void aBlockingCallbackDelaysNeitherTheCancellerNorOtherCallbacks() throws Exception {
        CancelHandle h = Context.background().withCancel();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch otherRan = new CountDownLatch(1);
        h.context().onDone(() -> {
            try {
                release.await(); // a callback that blocks
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        h.context().onDone(otherRan::countDown);
        long start = System.nanoTime();
        h.cancel();
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1), "cancel() did not wait for callbacks");
        assertTrue(otherRan.await(5, TimeUnit.SECONDS), "the other callback ran while the first blocked");
        release.countDown();
    }

    @Test
    void aBlockingCallbackDoesNotHoldUpTheDeadlineTimer() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CancelHandle first = Context.background().withTimeout(Duration.ofMillis(10));
        first.context().onDone(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CancelHandle second = Context.background().withTimeout(Duration.ofMillis(30));
        CountDownLatch secondFired = new CountDownLatch(1);
        second.context().onDone(secondFired::countDown);
        assertTrue(secondFired.await(5, TimeUnit.SECONDS), "the timer went on to the next deadline");
        release.countDown();
    }

    @Test
    void callbacksByDefaultRunOffTheCancellingThread() throws Exception {
        CancelHandle h = Context.background().withCancel();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        h.context().onDone(() -> {
            ranOn.set(Thread.currentThread());
            ran.countDown();
        });
        h.cancel();
        assertTrue(ran.await(5, TimeUnit.SECONDS));
        assertFalse(ranOn.get() == Thread.currentThread(), "Go's AfterFunc runs f in its own goroutine");
    }

    @Test
    void anExecutorThatThrowsLosesNoNotification() {
        CancelHandle root = Context.background().withCancel();
        CancelHandle child = root.context().withCancel();
        CancelHandle grandchild = child.context().withCancel();
        AtomicInteger ranAnyway = new AtomicInteger();
        AtomicInteger below = new AtomicInteger();
        child.context().onDone(ranAnyway::incrementAndGet, r -> {
            throw new IllegalStateException("a broken executor");
        });
        grandchild.context().onDone(below::incrementAndGet, Runnable::run);
        root.cancel(); // must not throw, must not stop the tree below
        assertTrue(grandchild.context().isDone());
        assertEquals(1, below.get(), "the grandchild's listener fired");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ranAnyway.get() == 0 && System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
        assertEquals(1, ranAnyway.get(), "the callback ran on the default threads instead");
    }

    @Test
    void anExhaustedTimeoutUnderADoneParentReportsTheParent() {
        RuntimeException why = new RuntimeException("parent cancelled");
        CancelHandle parent = Context.background().withCancel();
        parent.cancel(why);
        CancelHandle zero = parent.context().withTimeout(Duration.ZERO);
        assertInstanceOf(ContextCancelledException.class, zero.context().err(), "Go: the parent reached it first");
        assertSame(why, zero.context().cause());
    }

    @Test
    void aWaitUnlessDoneRunsExactlyOneSideAndLeavesNothingRegistered() {
        CancelHandle request = Context.background().withCancel();
        AtomicInteger onTime = new AtomicInteger();
        AtomicInteger onDone = new AtomicInteger();
        for (int i = 0; i < 1_000; i++) {
            Delays.scheduleUnlessDone(ticker, ticker.read() + 10, request.context(), onTime::incrementAndGet,
                    onDone::incrementAndGet);
            ticker.advance(10);
        }
        assertEquals(1_000, onTime.get());
        assertTrue(request.listenerCellCount() < 64, "each timer that won withdrew its listener (compacted): "
                + request.listenerCellCount());
        Delays.scheduleUnlessDone(ticker, ticker.read() + 10, request.context(), onTime::incrementAndGet,
                onDone::incrementAndGet);
        Registration withdrawn = Delays.scheduleUnlessDone(ticker, ticker.read() + 10, request.context(),
                onTime::incrementAndGet, onDone::incrementAndGet);
        assertTrue(withdrawn.remove());
        request.cancel();
        ticker.advance(10);
        assertEquals(1_000, onTime.get(), "the context won the next; the last was withdrawn");
        assertEquals(1, onDone.get());
        assertEquals(0, ticker.pendingCount(), "no timer left queued");
    }

    private static void awaitParked(Thread t) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not parked: " + t.getState());
            }
            Thread.yield();
        }
    }
}
