package dev.resilience.http.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/**
 * The backstop that ends an async cycle whose end the container never reported: on ticks the test
 * advances (no sleeping), then its thread with short ticks (liveness), a stress of arms, events and
 * sweeps (nothing ended twice, nothing live ended, nothing lost ends unheard), and a model check of
 * the races between the events, a new cycle and the sweep. The real container case (Tomcat losing
 * the events) is in {@link AsyncBackstopTomcatTest}.
 */
class AsyncBackstopTest {

    /** A watched request: its timeout, whether the container still knows it, how it ended. */
    static class TestEntry extends AsyncBackstop.Entry {
        volatile long timeout;
        volatile boolean over;
        final AtomicInteger endedBy = new AtomicInteger(); // 0 live, 1 event, 2 backstop
        final AtomicInteger ends = new AtomicInteger();

        TestEntry(long timeout) {
            this.timeout = timeout;
        }

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
            if (over) {
                throw new IllegalStateException("request ended");
            }
            return timeout;
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

    /** Ticks of one second, five of grace, advanced by the test. */
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
    void aRequestTheContainerCallsOverWithoutAnEventEndsAtItsDueTickNotBefore() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry(2_500); // 3 ticks, 1 for the start tick's age, 5 of grace: due at 9
        b.arm(e, e.timeout);
        e.over = true;
        assertEquals(0, sweep(b, 8));
        assertFalse(e.ended(), "not asked before its due tick");
        assertEquals(1, b.sweep());
        assertEquals(2, e.endedBy.get());
        assertEquals(0, b.watched());
        assertEquals(0, sweep(b, 10), "ended once");
        assertEquals(1, e.ends.get());
    }

    @Test
    void anEndedCycleIsForgottenAtTheNextTickAndNeverEndedAgain() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry(1_000);
        b.arm(e, e.timeout);
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
    void timeAloneNeverEndsALiveRequestWhichIsAskedAgainEveryGracePeriod() {
        // Past its timeout and still live: an async dispatch running (Tomcat does not time it out),
        // a late onTimeout queued. It keeps what it holds until the container calls it over.
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry(1_000); // due at 0 + 1 + 1 + 5 = 7
        b.arm(e, e.timeout);
        assertEquals(0, sweep(b, 1_000));
        assertFalse(e.ended());
        assertEquals(1, b.watched());
        e.over = true; // tick 1000; asked at 7, 12, ..., 1002
        assertEquals(0, sweep(b, 1));
        assertEquals(1, sweep(b, 1));
        assertEquals(2, e.endedBy.get());
    }

    @Test
    void aLengthenedTimeoutPutsTheNextQuestionLater() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry(1_000);
        b.arm(e, e.timeout);
        e.timeout = 30_000; // an application may set it after the first dispatch (Tomcat lets it)
        sweep(b, 9); // asked at 7: next at 0 + 30 + 1 + 5 = 36
        e.over = true;
        assertEquals(0, sweep(b, 26));
        assertFalse(e.ended(), "not asked again before tick 36");
        assertEquals(1, b.sweep());
    }

    @Test
    void aFirstCycleWithoutATimeoutIsNotWatchedButATimeoutTakenAwayLaterIsAskedAboutStill() {
        AsyncBackstop b = manual();
        b.arm(new TestEntry(0), 0);
        b.arm(new TestEntry(-1), -1);
        assertEquals(0, b.watched());
        TestEntry removed = new TestEntry(1_000);
        b.arm(removed, removed.timeout);
        removed.timeout = 0; // the application took it away; Tomcat's recycling also reads -1 for a moment
        assertEquals(0, sweep(b, 100));
        assertFalse(removed.ended());
        assertEquals(1, b.watched());
        removed.over = true;
        assertEquals(1, sweep(b, 5));
    }

    @Test
    void aNewCycleIsAskedAboutWithinTheGraceEvenWhenTheLastOneHadALongTimeout() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry(0); // first cycle without a timeout: not watched
        b.arm(e, 0);
        sweep(b, 10);
        e.timeout = 4_000;
        b.newCycle(e); // tick 10: asked at 15, then at 10 + 4 + 1 + 5 = 20
        assertEquals(1, b.watched());
        sweep(b, 6);
        e.over = true;
        assertEquals(0, sweep(b, 3));
        assertEquals(1, b.sweep(), "asked at 20");

        TestEntry longOne = new TestEntry(3_600_000);
        b.arm(longOne, longOne.timeout); // tick 20: asked first at 3627
        sweep(b, 5);
        longOne.timeout = 10_000;
        b.newCycle(longOne); // tick 25: asked at 30 at the latest
        longOne.over = true;
        assertEquals(0, sweep(b, 4));
        assertEquals(1, b.sweep());
    }

    @Test
    void hugeTimeoutsSaturateInsteadOfWrapping() {
        AsyncBackstop b = manual();
        TestEntry e = new TestEntry(Long.MAX_VALUE);
        b.arm(e, e.timeout);
        e.over = true; // a wrapped due tick would be asked about at once and end it
        assertEquals(0, sweep(b, 1_000));
        assertFalse(e.ended());
        assertEquals(1, b.watched());
        AsyncBackstop nanoTicks = new AsyncBackstop(1, Long.MAX_VALUE, false); // 1 ns ticks, grace at the top
        TestEntry f = new TestEntry(Long.MAX_VALUE / 1_000_000L); // the largest that converts to nanoseconds
        nanoTicks.arm(f, f.timeout);
        f.over = true;
        assertEquals(0, sweep(nanoTicks, 1_000));
        assertFalse(f.ended());
    }

    @Test
    void subMillisecondTicksCountTheTimeoutInNanoseconds() {
        AsyncBackstop b = new AsyncBackstop(TimeUnit.MICROSECONDS.toNanos(100), 0, false); // 10 ticks per ms
        TestEntry e = new TestEntry(2); // 20 ticks + 1: due at 21
        b.arm(e, e.timeout);
        e.over = true;
        assertEquals(0, sweep(b, 20));
        assertEquals(1, b.sweep());
    }

    @Test
    void anEntryWhoseEndThrowsDoesNotStopTheSweepOfTheOthers() {
        AsyncBackstop b = manual();
        TestEntry bad = new TestEntry(1_000) {
            @Override
            void giveBack() {
                super.giveBack();
                throw new IllegalStateException("a bug in an entry");
            }
        };
        TestEntry good = new TestEntry(1_000);
        b.arm(good, good.timeout);
        b.arm(bad, bad.timeout);
        good.over = true;
        bad.over = true;
        assertEquals(1, sweep(b, 7), "the good one counts; the bad one threw");
        assertTrue(good.ended());
        assertTrue(bad.ended());
        assertEquals(0, b.watched());
    }

    @Test
    void theThreadEndsALostCycleWithinItsBoundAndStopsWhenNothingIsWatched() throws Exception {
        AsyncBackstop b = new AsyncBackstop(TimeUnit.MILLISECONDS.toNanos(10), 1, true); // due after 3 ticks for 10 ms
        for (int round = 0; round < 2; round++) { // the second round starts a new thread
            TestEntry e = new TestEntry(10);
            e.over = true;
            long start = System.nanoTime();
            b.arm(e, e.timeout);
            assertTrue(b.running());
            long end = start + TimeUnit.SECONDS.toNanos(10);
            while (e.endedBy.get() == 0 && System.nanoTime() < end) { // set just after the end's CAS
                Thread.onSpinWait();
            }
            long took = System.nanoTime() - start;
            assertEquals(2, e.endedBy.get(), "ended by the backstop");
            assertTrue(took < TimeUnit.SECONDS.toNanos(2), "within 2 s of a 40 ms due time: " + took / 1_000_000 + " ms");
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
        int perThread = 5_000;
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
                    if (r.nextInt(4) == 0) { // its events will never come: a short timeout, over soon
                        TestEntry e = new TestEntry(1 + r.nextInt(3));
                        b.arm(e, e.timeout);
                        if (r.nextBoolean()) {
                            b.newCycle(e);
                        }
                        e.over = true;
                        myLost.add(e);
                    } else { // a live request, past its timeout or not, ended by its event
                        TestEntry e = new TestEntry(r.nextBoolean() ? 1 : 3_600_000);
                        b.arm(e, e.timeout);
                        if (r.nextInt(8) == 0) {
                            b.newCycle(e);
                        }
                        if (r.nextInt(8) == 0) {
                            late.add(e); // live for several ticks past its due tick, then its event
                        } else {
                            e.event();
                        }
                        myLive.add(e);
                    }
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(30)); // 30 ticks: the late ones are past due
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
                assertTrue(seen.put(e, true) == null);
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
     * Model checking (Lincheck) of the races between the container's events, a new cycle, a
     * lengthened timeout, a request the container calls over, and the one sweeper, on three entries
     * armed with a 1 ms timeout (one tick, no grace: due at the first sweep). Not linearizability:
     * a new cycle that reads the tick a sweep just advanced may keep an entry the sweep would have
     * ended, which is the safe side. In every interleaving: no entry ends twice, an entry that is
     * not ended is still watched (a push lost to a race would leave it unwatched for good), no entry
     * that had its event is ended by the backstop, and more sweeps end every other one.
     */
    @Test
    void inEveryInterleavingNothingEndsTwiceAndNothingLiveFallsOffTheStack() {
        Lincheck.runConcurrentTest(2_000, () -> {
            AsyncBackstop b = new AsyncBackstop(TimeUnit.MILLISECONDS.toNanos(1), 0, false);
            TestEntry[] e = {new TestEntry(1), new TestEntry(1), new TestEntry(1)};
            for (TestEntry x : e) {
                b.arm(x, x.timeout);
            }
            boolean[] evented = new boolean[3];
            Thread[] threads = {
                new Thread(() -> {
                    evented[0] = e[0].event();
                    b.newCycle(e[1]);
                }),
                new Thread(() -> {
                    b.newCycle(e[0]);
                    e[2].timeout = 3;
                    e[1].over = true;
                }),
                new Thread(() -> {
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
