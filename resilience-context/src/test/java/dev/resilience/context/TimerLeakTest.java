package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Deadlines arm no timer unless someone listens, and cancelled contexts are not retained. */
class TimerLeakTest {

    private static final int CONTEXTS = 1_000_000;

    @Test
    void millionDeadlinesCreatedAndCancelledArmNoTimer() {
        int before = Timers.pendingSystemTasks();
        CancelHandle root = Context.background().withCancel();
        for (int i = 0; i < CONTEXTS; i++) {
            try (CancelHandle h = root.context().withTimeout(Duration.ofSeconds(30))) {
                assertFalse(h.context().isDone());
                assertFalse(h.timerArmed());
            }
        }
        assertEquals(before, Timers.pendingSystemTasks());
        assertEquals(0, root.listenerCellCount(), "children that never listened never linked");
    }

    @Test
    void millionListenedDeadlinesCancelledLeaveNoTimerTaskAndNoRetainedContext() {
        CancelHandle root = Context.background().withCancel();
        List<WeakReference<Context>> sample = new ArrayList<>();
        int maxPending = 0;
        for (int i = 0; i < CONTEXTS; i++) {
            CancelHandle h = root.context().withTimeout(Duration.ofSeconds(30));
            h.context().onDone(() -> { }, Runnable::run);
            if (i % 10_000 == 0) {
                assertTrue(h.timerArmed(), "listening arms the deadline timer");
                maxPending = Math.max(maxPending, Timers.pendingSystemTasks());
                sample.add(new WeakReference<>(h.context()));
            }
            h.cancel();
        }
        assertTrue(maxPending >= 1);
        assertEquals(0, Timers.pendingSystemTasks(), "every cancelled context withdrew its timer");
        assertTrue(root.listenerCellCount() < 64,
                "cancelled children are detached from the long-lived parent: " + root.listenerCellCount());
        awaitCollected(sample);
        assertFalse(root.context().isDone());
    }

    @Test
    void childWhoseParentExpiresSoonerArmsNothing() {
        CancelHandle parent = Context.background().withTimeout(Duration.ofSeconds(10));
        CancelHandle child = parent.context().withTimeout(Duration.ofSeconds(20));
        child.context().onDone(() -> { });
        assertFalse(child.timerArmed());
        assertTrue(parent.timerArmed());
        parent.cancel();
        assertFalse(parent.timerArmed());
        assertEquals(0, Timers.pendingSystemTasks());
        assertTrue(child.context().isDone());
    }

    @Test
    void removedListenersDoNotAccumulate() {
        CancelHandle h = Context.background().withCancel();
        for (int i = 0; i < 100_000; i++) {
            h.context().onDone(() -> { }).remove();
        }
        assertTrue(h.listenerCellCount() < 64, "withdrawn callbacks are compacted: " + h.listenerCellCount());
    }

    @Test
    void removedListenersDoNotAccumulateWhileTwoThreadsChurnAtOnce() throws Exception {
        CancelHandle h = Context.background().withCancel();
        int live = 20_000; // a long-lived parent with many listeners that stay: each compaction walks them all
        for (int i = 0; i < live; i++) {
            h.context().onDone(() -> { });
        }
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        Runnable churn = () -> {
            for (int i = 0; i < 200_000; i++) {
                h.context().onDone(() -> { }).remove();
            }
        };
        Thread a = new Thread(churn);
        Thread b = new Thread(churn);
        a.start();
        b.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while ((a.isAlive() || b.isAlive()) && System.nanoTime() < end) { // samples the list while both push and withdraw
            most.accumulateAndGet(h.listenerCellCount(), Math::max);
            Thread.onSpinWait();
        }
        assertFalse(a.isAlive() || b.isAlive(), "both churns end within 60 s");
        // compaction starts once half the list is withdrawn: at most about twice the live ones, racing pushes or not
        assertTrue(most.get() <= 2 * live + 1_024, "compaction keeps up with racing pushes: at most " + most.get() + " cells");
        assertTrue(h.listenerCellCount() <= 2 * live + 1_024, "and once quiet: " + h.listenerCellCount());
        assertFalse(h.context().isDone());
    }

    private static void awaitCollected(List<WeakReference<Context>> refs) {
        for (int attempt = 0; attempt < 50; attempt++) {
            System.gc();
            if (refs.stream().allMatch(r -> r.get() == null)) {
                return;
            }
        }
        for (WeakReference<Context> r : refs) {
            assertNull(r.get(), "a cancelled context is still reachable");
        }
    }
}
