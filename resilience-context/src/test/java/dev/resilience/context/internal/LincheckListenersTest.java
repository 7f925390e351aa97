package dev.resilience.context.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Registration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of the shared listener list: concurrent adds and removes, and a
 * removal racing with itself, in every interleaving Lincheck explores. What must hold at the end:
 * the members are exactly the listeners still registered, and the published listener is the one
 * standing for them (never a stale one).
 */
class LincheckListenersTest {

    /**
     * Interleavings explored per test: 500 in {@code mvn verify} (its 10 minutes on 2 cores);
     * {@code -Dlincheck.invocations=5000} for a deeper run.
     */
    private static final int INVOCATIONS = Integer.getInteger("lincheck.invocations", 500);

    interface Ear {
        Ear NOOP = s -> { };

        void hear(String s);
    }

    /** The fan-out remembers its members, so the test can tell which state was published. */
    private static final class Fanout implements Ear {
        final Object[] members;

        Fanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void hear(String s) {
        }
    }

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
    void concurrentChangesLeaveExactlyTheRegisteredListenersPublished() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Ear kept = s -> { };
            Ear first = s -> { };
            Ear second = s -> { };
            Listeners<Ear> listeners = new Listeners<>(Ear.NOOP, Fanout::new, List.of(kept));
            Registration r1 = listeners.add(first);
            Registration[] r2 = new Registration[1];
            AtomicBoolean removedTwice = new AtomicBoolean();
            Thread a = start(() -> r2[0] = listeners.add(second));
            Thread b = start(() -> {
                boolean x = r1.remove();
                boolean y = r1.remove();
                removedTwice.set(x && y);
            });
            join(a, b);
            assertFalse(removedTwice.get(), "one registration removes once");
            List<Object> members = List.of(listeners.members());
            assertEquals(List.of(kept, second), members);
            Ear current = listeners.current();
            assertTrue(current instanceof Fanout, "some listener is published");
            assertEquals(members, List.of(((Fanout) current).members), "the published listener is the last state's");
            assertTrue(r2[0].remove());
            assertEquals(List.of(kept), List.of(listeners.members()));
        });
    }

    @Test
    void removingTheLastListenersRacingPublishesTheNoopListener() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Listeners<Ear> listeners = new Listeners<>(Ear.NOOP, Fanout::new, List.of());
            Registration a = listeners.add(s -> { });
            Registration b = listeners.add(s -> { });
            Thread t1 = start(a::remove);
            Thread t2 = start(b::remove);
            join(t1, t2);
            assertEquals(0, listeners.members().length);
            assertSame(Ear.NOOP, listeners.current(), "nothing left: the no-op listener, not a stale fan-out");
        });
    }
}
