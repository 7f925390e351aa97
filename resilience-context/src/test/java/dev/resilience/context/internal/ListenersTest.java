package dev.resilience.context.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Registration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The shared listener list: registrations, the no-op listener, a throwing member, concurrent changes. */
class ListenersTest {

    interface Ear {
        Ear NOOP = s -> { };

        void hear(String s);
    }

    /** Tells every member; the fan-out the primitives make per interface. */
    private static Listeners<Ear> listeners(List<Ear> initial) {
        return new Listeners<>(Ear.NOOP, members -> s -> {
            for (Object m : members) {
                ((Ear) m).hear(s);
            }
        }, initial);
    }

    @Test
    void eachRegistrationRemovesItsOwnOccurrenceOnce() {
        Listeners<Ear> l = listeners(List.of());
        List<String> heard = new ArrayList<>();
        Ear ear = heard::add;
        Registration first = l.add(ear);
        Registration second = l.add(ear);
        l.current().hear("a");
        assertEquals(List.of("a", "a"), heard, "added twice, hears twice");
        assertTrue(first.remove());
        assertFalse(first.remove(), "a second remove of the same registration does nothing");
        l.current().hear("b");
        assertEquals(List.of("a", "a", "b"), heard, "the other registration still holds");
        assertTrue(second.remove());
        assertSame(Ear.NOOP, l.current(), "none left: the no-op listener again");
    }

    @Test
    void theNoopListenerIsNeverAMember() {
        Listeners<Ear> l = listeners(List.of(Ear.NOOP));
        assertSame(Ear.NOOP, l.current(), "a builder given NOOP keeps the fast path");
        assertFalse(l.add(Ear.NOOP).remove());
        assertEquals(0, l.members().length);
    }

    @Test
    void forEachContainsAThrowingMember() {
        List<String> heard = new ArrayList<>();
        List<Object> failed = new ArrayList<>();
        Ear broken = s -> {
            throw new IllegalStateException("broken");
        };
        Listeners<Ear> l = listeners(List.of(broken, heard::add));
        Consumer<Ear> event = e -> e.hear("x");
        l.forEach(event, (m, e) -> failed.add(m));
        assertEquals(List.of("x"), heard, "the next member still hears");
        assertEquals(List.of(broken), failed);
    }

    @Test
    void concurrentAddsAndRemovesLoseNothing() throws Exception {
        Listeners<Ear> l = listeners(List.of());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        List<Ear> kept = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Ear keep = s -> { };
            kept.add(keep);
            pool.execute(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int j = 0; j < 2_000; j++) {
                    l.add(s -> { }).remove();
                }
                l.add(keep);
            });
        }
        go.countDown();
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(4, l.members().length, "every kept listener, no transient one: " + List.of(l.members()));
        for (Ear k : kept) {
            assertTrue(List.of(l.members()).contains(k));
        }
    }
}
