package dev.resilience.http.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.AsyncEvent;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/**
 * The backstop that ends an async cycle whose end the container never reported: on ticks the test
 * advances (no sleeping), then its thread with short ticks (liveness), a stress of arms, events,
 * new cycles and sweeps (nothing ended twice, nothing live ended, every lost one ended), and a
 * model check of the races between the events, a new cycle and the sweep. The real container
 * case (Tomcat losing the events) is in {@link AsyncBackstopTomcatTest}.
 */
class AsyncBackstopTest {

    /**
     * A watched request as the container answers about it: live, over ({@code getTimeout()} throws
     * {@link IllegalStateException}), for a few questions "over" while live (Tomcat's answer to a
     * non-container thread while it tells the listeners of an error), or not an answer at all (a
     * wrapper that throws something else). Ends through the filters' first-end rule.
     */
    static class TestEntry extends AsyncBackstop.Entry {
        volatile boolean over;
        final AtomicInteger transientOver = new AtomicInteger();
        volatile boolean noAnswer;
        /** Throws a checked exception without declaring it, as a Kotlin or Lombok wrapper may. */
        volatile boolean sneaky;
        final AtomicInteger endedBy = new AtomicInteger(); // 0 live, 1 event, 2 backstop
        final AtomicInteger ends = new AtomicInteger();

        @Override
        public void onComplete(AsyncEvent event) {
            throw new AssertionError("not a container's listener here");
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            throw new AssertionError("not a container's listener here");
        }

        @Override
        public void onError(AsyncEvent event) {
            throw new AssertionError("not a container's listener here");
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            throw new AssertionError("not a container's listener here");
        }

        @Override
        long timeoutMillis() {
            if (noAnswer) {
                throw new UnsupportedOperationException("a wrapper's");
            }
            if (sneaky) {
                throw AsyncBackstopTest.<RuntimeException>sneakyThrow(new java.io.IOException("a wrapper's checked one"));
            }
            if (over || transientOver.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IllegalStateException("request ended");
            }
            return 30_000;
        }

        /** The container's event, through the filters' first-end rule; true if it was the first end. */
        boolean event() {
            if (!firstEnd()) {
                return false;
            }
            endedBy.set(1);
            ends.incrementAndGet();
            return true;
        }

        @Override
        void giveBack() {
            endedBy.set(2);
            ends.incrementAndGet();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    /** Ticks of one second, a question every five, advanced by the test. */
    private static AsyncBackstop manual() {
        return new AsyncBackstop(TimeUnit.SECONDS.toNanos(1), 5, false);
    }

    private static int sweep(AsyncBackstop b, int times) {
        int lost = 0;
        for (int i = 0; i < times; i++) {
            lost += b.sweep();
        }
        return lost;
    }

    @Test
    void aRequestOverWithoutAnEventEndsAtTheSecondQuestionNotBefore() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry();
        b.arm(e); // asked at ticks 6, 11, ...
        e.over = true;
        assertEquals(0, sweep(b, 10));
        assertFalse(e.ended(), "one answer is not enough");
        assertEquals(1, b.sweep());
        assertEquals(2, e.endedBy.get());
        assertEquals(0, b.watched());
        assertEquals(0, sweep(b, 20), "ended once");
        assertEquals(1, e.ends.get());
    }

    @Test
    void anEndedCycleIsForgottenAtTheNextTickAndNeverEndedAgain() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry();
        b.arm(e);
        assertEquals(1, b.watched());
        assertTrue(e.event());
        e.over = true;
        assertEquals(0, b.sweep());
        assertEquals(0, b.watched());
        assertEquals(0, sweep(b, 20));
        assertEquals(1, e.endedBy.get());
        assertEquals(1, e.ends.get());
    }

    @Test
    void timeAloneNeverEndsALiveRequest() {
        // An async dispatch running past the timeout (Tomcat does not time it out), a stream
        // without a timeout: it keeps what it holds until the container calls it over.
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry();
        b.arm(e);
        assertEquals(0, sweep(b, 1_000));
        assertFalse(e.ended());
        assertEquals(1, b.watched());
        e.over = true; // tick 1000; asked at 1001 and 1006
        assertEquals(0, sweep(b, 5));
        assertEquals(1, b.sweep());
        assertEquals(2, e.endedBy.get());
    }

    @Test
    void aSingleOverAnswerBetweenNormalOnesEndsNothing() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry();
        b.arm(e);
        e.transientOver.set(1); // at tick 6, then live at 11: the strike is forgotten
        assertEquals(0, sweep(b, 100));
        assertFalse(e.ended());
        e.transientOver.set(1); // 101 (asked at 101 and 106: over, then live)
        assertEquals(0, sweep(b, 100));
        assertFalse(e.ended());
    }

    @Test
    void aNewCycleForgetsTheStrikes() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry();
        b.arm(e);
        e.over = true;
        sweep(b, 6); // one strike
        b.newCycle(e); // the request is live: startAsync in an async dispatch
        assertEquals(0, sweep(b, 5), "the strike before the new cycle does not count");
        assertEquals(1, sweep(b, 5));
    }

    @Test
    void somethingOtherThanAnAnswerEndsNothing() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry();
        b.arm(e);
        e.noAnswer = true;
        assertEquals(0, sweep(b, 100));
        assertFalse(e.ended());
        assertEquals(1, b.watched());
        e.noAnswer = false;
        e.over = true;
        assertEquals(1, sweep(b, 10));
    }

    @Test
    void anUndeclaredCheckedExceptionIsNoAnswerAndTheEntryStaysWatched() {
        AsyncBackstop b = manual();
        TestEntry odd = new TestEntry();
        TestEntry other = new TestEntry();
        b.arm(odd);
        b.arm(other);
        odd.sneaky = true;
        other.over = true;
        assertEquals(1, sweep(b, 11), "the other one ends; the odd one's answer is none");
        assertFalse(odd.ended());
        assertTrue(b.contains(odd), "still watched");
        odd.sneaky = false;
        odd.over = true;
        assertEquals(1, sweep(b, 10));
    }

    @Test
    void aNewCycleDuringAQuestionLeavesNoStaleStrike() {
        // The sweeper counts a strike while onStartAsync runs: the strike belongs to the old cycle.
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry() {
            @Override
            long timeoutMillis() {
                if (over && transientOver.getAndSet(0) == 1) {
                    b.newCycle(this); // the container starts a new cycle as it answers
                }
                return super.timeoutMillis();
            }
        };
        b.arm(e);
        e.over = true;
        e.transientOver.set(1);
        assertEquals(0, sweep(b, 11), "asked at 6 (a new cycle meanwhile) and 11: one strike in the new cycle");
        assertFalse(e.ended());
        assertEquals(1, sweep(b, 5), "the second strike of the new cycle, at 16");
    }

    @Test
    void aHugeGraceSaturatesInsteadOfWrapping() {
        AsyncBackstop b = new AsyncBackstop(1, Long.MAX_VALUE, false);
        TestEntry e = new TestEntry();
        b.arm(e);
        e.over = true; // a wrapped due tick would be asked about at once and end it
        assertEquals(0, sweep(b, 1_000));
        assertFalse(e.ended());
        assertEquals(1, b.watched());
    }

    @Test
    void anEntryWhoseEndThrowsDoesNotStopTheSweepOfTheOthers() {
        Logger log = Logger.getLogger("dev.resilience.http.servlet");
        Level level = log.getLevel();
        log.setLevel(Level.OFF); // the backstop logs the bad entry's throw at WARNING: expected here
        try {
            AsyncBackstop b = manual();
            TestEntry bad = new TestEntry() {
                @Override
                void giveBack() {
                    super.giveBack();
                    throw new IllegalStateException("a bug in an entry");
                }
            };
            TestEntry good = new TestEntry();
            b.arm(good);
            b.arm(bad);
            good.over = true;
            bad.over = true;
            assertEquals(1, sweep(b, 11), "the good one counts; the bad one threw");
            assertTrue(good.ended());
            assertTrue(bad.ended());
            assertEquals(0, b.watched());
        } finally {
            log.setLevel(level);
        }
    }

    @Test
    void theThreadEndsALostCycleWithinItsBoundAndStopsWhenNothingIsWatched() throws Exception {
        AsyncBackstop b = new AsyncBackstop(TimeUnit.MILLISECONDS.toNanos(10), 1, true); // asked at ticks 2 and 3
        for (int round = 0; round < 2; round++) { // the second round starts a new thread
            TestEntry e = new TestEntry();
            e.over = true;
            long start = System.nanoTime();
            b.arm(e);
            assertTrue(b.running());
            long end = start + TimeUnit.SECONDS.toNanos(10);
            while (e.endedBy.get() == 0 && System.nanoTime() < end) { // set just after the end's CAS
                Thread.onSpinWait();
            }
            long took = System.nanoTime() - start;
            assertEquals(2, e.endedBy.get(), "ended by the backstop");
            assertTrue(took < TimeUnit.SECONDS.toNanos(2), "within 2 s of a 30 ms due time: " + took / 1_000_000 + " ms");
            while (b.running() && System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            assertFalse(b.running(), "the thread stops 60 idle ticks after nothing is watched");
        }
    }

    @Test
    void underStressNothingIsEndedTwiceNothingLiveIsEndedAndEveryLostOneEnds() throws Exception {
        AsyncBackstop b = new AsyncBackstop(TimeUnit.MILLISECONDS.toNanos(1), 2, true);
        int threads = 4;
        int perThread = 2_000;
        List<List<TestEntry>> live = new ArrayList<>();
        List<List<TestEntry>> lost = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<TestEntry> myLive = new ArrayList<>();
            List<TestEntry> myLost = new ArrayList<>();
            live.add(myLive);
            lost.add(myLost);
            workers.add(new Thread(() -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                List<TestEntry> late = new ArrayList<>();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    TestEntry e = new TestEntry();
                    b.arm(e);
                    if (r.nextInt(8) == 0) {
                        b.newCycle(e);
                    }
                    if (r.nextInt(4) == 0) { // its events will never come; the container calls it over
                        e.over = true;
                        myLost.add(e);
                    } else { // live, asked about for a while or not, sometimes answering "over" once
                        if (r.nextInt(4) == 0) {
                            e.transientOver.set(1);
                        }
                        if (r.nextInt(8) == 0) {
                            late.add(e); // its event comes after many questions
                        } else {
                            e.event();
                        }
                        myLive.add(e);
                    }
                }
                long asked = b.ticks() + 10; // 10 ticks on: the late ones were asked about (grace 2) several times
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (b.ticks() < asked && System.nanoTime() < until) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // a bounded poll of the backstop's own clock
                }
                late.forEach(TestEntry::event);
            }));
        }
        workers.forEach(Thread::start);
        go.countDown();
        for (Thread w : workers) {
            w.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(w.isAlive());
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.running() && System.nanoTime() < end) {
            Thread.sleep(5); // the backstop's own thread works; the test only waits for it to finish
        }
        assertFalse(b.running(), "every lost one ended, every ended one forgotten: the thread stopped");
        assertEquals(0, b.watched());
        Map<TestEntry, Boolean> seen = new IdentityHashMap<>();
        int lostCount = 0;
        for (int t = 0; t < threads; t++) {
            for (TestEntry e : live.get(t)) {
                assertEquals(1, e.endedBy.get(), "a live one is ended by its event only");
                assertEquals(1, e.ends.get());
                assertNull(seen.put(e, true));
            }
            for (TestEntry e : lost.get(t)) {
                assertEquals(2, e.endedBy.get(), "a lost one is ended by the backstop");
                assertEquals(1, e.ends.get());
                lostCount++;
            }
        }
        assertEquals(threads * perThread, seen.size() + lostCount);
    }

    /**
     * Model checking (Lincheck) of the races between the container's events, a new cycle, an
     * answer that flips to "over", and the one sweeper, on three entries (grace of one tick: asked
     * at every other sweep). Not linearizability: an interleaving may only move when an entry ends.
     * In every interleaving: no entry ends twice, an entry that is not ended is still watched (a
     * push lost to a race would leave it unwatched for good), the entry whose event came first is
     * not ended by the backstop, and once every request is over more sweeps end every entry.
     */
    @Test
    void inEveryInterleavingNothingEndsTwiceAndNothingLiveFallsOffTheStack() {
        Lincheck.runConcurrentTest(800, () -> {
            AsyncBackstop b = new AsyncBackstop(TimeUnit.MILLISECONDS.toNanos(1), 1, false);
            TestEntry[] e = {new TestEntry(), new TestEntry(), new TestEntry()};
            e[2].transientOver.set(1);
            for (TestEntry x : e) {
                b.arm(x);
            }
            boolean[] evented = new boolean[3];
            Thread[] threads = {
                new Thread(() -> {
                    evented[0] = e[0].event();
                    b.newCycle(e[1]);
                }),
                new Thread(() -> {
                    b.newCycle(e[0]);
                    e[1].over = true;
                    b.newCycle(e[2]);
                }),
                new Thread(() -> {
                    b.sweep();
                    b.sweep();
                    b.sweep();
                }),
            };
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException ex) {
                    throw new AssertionError(ex);
                }
            }
            for (TestEntry x : e) {
                assertTrue(x.ends.get() <= 1, "ended at most once");
                assertTrue(x.ended() || b.contains(x), "a live entry is still watched");
            }
            if (evented[0]) {
                assertEquals(1, e[0].endedBy.get(), "its event ended it, not the backstop");
            }
            assertFalse(e[2].ended(), "one 'over' answer ends nothing");
            for (TestEntry x : e) {
                x.over = true;
            }
            for (int i = 0; i < 10; i++) {
                b.sweep();
            }
            for (TestEntry x : e) {
                assertEquals(1, x.ends.get(), "ended exactly once in the end");
            }
            assertEquals(0, b.watched());
        });
    }
}
