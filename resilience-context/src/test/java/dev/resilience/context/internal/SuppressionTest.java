package dev.resilience.context.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class SuppressionTest {

    @Test
    void addsTheLaterExceptionAndReturnsTheKeptOne() {
        IllegalStateException kept = new IllegalStateException("kept");
        RuntimeException later = new RuntimeException("later");
        assertSame(kept, Suppression.attach(kept, later));
        assertArrayEquals(new Throwable[] {later}, kept.getSuppressed());
    }

    @Test
    void neverThrowsAndAddsNothingThatAddsNoInformation() {
        RuntimeException cause = new RuntimeException("cause");
        RuntimeException kept = new RuntimeException("kept", cause);
        assertSame(kept, Suppression.attach(kept, kept), "itself: addSuppressed would throw");
        assertSame(kept, Suppression.attach(kept, null));
        assertSame(kept, Suppression.attach(kept, cause), "its cause is on record already");
        assertEquals(0, kept.getSuppressed().length);
        assertNull(Suppression.attach(null, cause), "nothing to attach to");
        RuntimeException later = new RuntimeException("later");
        Suppression.attach(kept, later);
        Suppression.attach(kept, later);
        assertEquals(1, kept.getSuppressed().length, "the same one twice is kept once");
    }

    @Test
    void aSharedExceptionKeepsTheFirstFewAndStopsGrowing() {
        IllegalStateException shared = new IllegalStateException("a constant");
        List<Throwable> first = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            RuntimeException later = new RuntimeException("later " + i);
            if (i < Suppression.MAX) {
                first.add(later);
            }
            Suppression.attach(shared, later);
        }
        assertArrayEquals(first.toArray(), shared.getSuppressed());
    }

    @Test
    void anExceptionWhoseGetCauseThrowsIsReturnedUnharmed() {
        RuntimeException hostile = new RuntimeException("hostile") {
            private static final long serialVersionUID = 1L;

            @Override
            public synchronized Throwable getCause() {
                throw new IllegalStateException("getCause broke");
            }
        };
        assertSame(hostile, Suppression.attach(hostile, new RuntimeException("later")), "no exception of its own");
    }

    @Test
    void rethrowThrowsACheckedExceptionAsItIs() {
        java.io.IOException checked = new java.io.IOException("checked");
        Throwable thrown = assertThrows(Throwable.class, () -> {
            throw Suppression.rethrow(checked);
        });
        assertSame(checked, thrown);
    }

    @Test
    void racingThreadsStayWithinTheBoundPlusOneEach() throws Exception {
        IllegalStateException shared = new IllegalStateException("a constant");
        int threads = 4;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 10_000; i++) {
                    Suppression.attach(shared, new RuntimeException("later"));
                }
            });
            thread.start();
            started.add(thread);
        }
        start.countDown();
        for (Thread thread : started) {
            thread.join(10_000);
            assertFalse(thread.isAlive(), "a racing thread did not finish");
        }
        int held = shared.getSuppressed().length;
        assertTrue(held >= Suppression.MAX && held <= Suppression.MAX + threads - 1, "held " + held);
    }
}
