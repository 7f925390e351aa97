package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of {@link CancelHandle}'s lock-free linking: a cancellation racing the
 * first listener of a descendant (which links the chain up to the cancelled ancestor) must fire the
 * listener exactly once and leave nothing linked.
 */
class LincheckContextTest {

    /**
     * Interleavings explored per test: 500 in {@code mvn verify} (its 10 minutes on 2 cores);
     * {@code -Dlincheck.invocations=5000} for a deeper run.
     */
    private static final int INVOCATIONS = Integer.getInteger("lincheck.invocations", 500);

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    private static void join(Thread... threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void aCancelRacingTheLinkOfAGrandchildFiresItsListenerOnce() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            CancelHandle root = Context.background().withCancel();
            CancelHandle child = root.context().withCancel();
            CancelHandle grandchild = child.context().withCancel();
            AtomicInteger fired = new AtomicInteger();
            RuntimeException why = new RuntimeException("root");
            Thread listener = start(() -> grandchild.context().onDone(fired::incrementAndGet, Runnable::run));
            Thread canceller = start(() -> root.cancel(why));
            join(listener, canceller);
            assertEquals(1, fired.get(), "fired exactly once");
            assertTrue(grandchild.context().isDone());
            assertSame(why, grandchild.context().cause());
            assertEquals(0, root.listenerCellCount(), "nothing stays linked to the root");
            assertEquals(0, child.listenerCellCount());
        });
    }

    @Test
    void twoCancellationsAndAListenerAgreeOnOneOutcome() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            CancelHandle parent = Context.background().withCancel();
            CancelHandle child = parent.context().withCancel();
            AtomicInteger fired = new AtomicInteger();
            RuntimeException p = new RuntimeException("parent");
            RuntimeException c = new RuntimeException("child");
            child.context().onDone(fired::incrementAndGet, Runnable::run);
            Thread a = start(() -> parent.cancel(p));
            Thread b = start(() -> child.cancel(c));
            join(a, b);
            assertEquals(1, fired.get());
            Throwable cause = child.context().cause();
            assertTrue(cause == p || cause == c, "one of the two: " + cause);
            assertSame(p, parent.context().cause(), "a child never cancels its parent");
            assertEquals(0, parent.listenerCellCount());
        });
    }
}
