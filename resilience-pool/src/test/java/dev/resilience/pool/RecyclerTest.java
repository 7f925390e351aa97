package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecyclerTest {

    /** A recycled object that knows whether someone holds it. */
    static final class Buffer {
        final AtomicBoolean held = new AtomicBoolean();
        int uses;
        int resets;
    }

    @Test
    void getCreatesWhenEmptyAndReturnsTheReleasedObjectOnTheSameThread() {
        Recycler<Buffer> r = Recycler.builder(Buffer::new).build();
        Buffer a = r.get();
        Buffer b = r.get();
        assertNotSame(a, b);
        assertEquals(2, r.created());
        assertTrue(r.release(a));
        assertSame(a, r.get());
        assertEquals(2, r.created());
    }

    @Test
    void resetRunsOnReleaseAndRetainIfDropsWhatItRejects() {
        Recycler<Buffer> r = Recycler.builder(Buffer::new)
                .reset(b -> b.resets++)
                .retainIf(b -> b.uses < 3)
                .build();
        Buffer kept = r.get();
        kept.uses = 1;
        assertTrue(r.release(kept));
        assertEquals(1, kept.resets);
        Buffer worn = r.get();
        assertSame(kept, worn);
        worn.uses = 5;
        assertFalse(r.release(worn));
        assertEquals(1, worn.resets, "a dropped object is not reset");
        assertEquals(1, r.dropped());
        assertNotSame(worn, r.get());
    }

    @Test
    void aFailingResetDropsTheObjectAndPropagates() {
        Recycler<Buffer> r = Recycler.builder(Buffer::new).reset(b -> {
            throw new IllegalStateException("reset failed");
        }).build();
        Buffer b = r.get();
        assertThrows(IllegalStateException.class, () -> r.release(b));
        assertNotSame(b, r.get());
    }

    @Test
    void cachesAreBoundedAndTheRestIsDropped() {
        Recycler<Buffer> r = Recycler.builder(Buffer::new).perThreadCapacity(4).sharedCapacity(8).build();
        List<Buffer> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(r.get());
        }
        int kept = 0;
        for (Buffer b : all) {
            kept += r.release(b) ? 1 : 0;
        }
        assertEquals(12, kept);
        assertEquals(8, r.dropped());
        assertEquals(8, r.sharedSize());
        Set<Buffer> again = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            again.add(r.get());
        }
        assertEquals(12, again.size());
        assertEquals(20, r.created(), "the twelve kept came back without creating");
        r.get();
        assertEquals(21, r.created());
    }

    @Test
    void objectsReleasedOnAnotherThreadFindTheirWayBack() throws Exception {
        Recycler<Buffer> r = Recycler.builder(Buffer::new).perThreadCapacity(2).build();
        List<Buffer> got = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            got.add(r.get());
        }
        Thread releaser = new Thread(() -> got.forEach(r::release));
        releaser.start();
        releaser.join();
        // two stay in the releaser's private stack, three went to the shared queue
        Set<Buffer> back = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            back.add(r.get());
        }
        assertTrue(got.containsAll(back));
        assertEquals(3, back.size());
        assertEquals(5, r.created());
    }

    @Test
    void manyLiveThreadsEachKeepAPrivateStackEvenWhenTheirIdsCollide() throws Exception {
        Recycler<Buffer> r = Recycler.builder(Buffer::new).perThreadCapacity(1).sharedCapacity(0).build();
        int threads = 200; // more than the id-indexed table holds: some go through the thread-local
        java.util.concurrent.CyclicBarrier allAlive = new java.util.concurrent.CyclicBarrier(threads);
        AtomicInteger sameBack = new AtomicInteger();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    allAlive.await(10, TimeUnit.SECONDS);
                    Buffer mine = r.get();
                    r.release(mine);
                    allAlive.await(10, TimeUnit.SECONDS);
                    if (r.get() == mine) {
                        sameBack.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            all.add(th);
            th.start();
        }
        for (Thread th : all) {
            th.join();
        }
        assertEquals(threads, sameBack.get(), "no thread saw another's private stack");
        assertEquals(threads, r.created());
        // the stacks of ended threads are reclaimed: a new thread still gets a working private stack
        Thread late = new Thread(() -> {
            Buffer b = r.get();
            r.release(b);
            assertSame(b, r.get());
        });
        late.start();
        late.join();
    }

    @Test
    void virtualThreadsUseOnlyTheSharedQueue() throws Exception {
        ExecutorService virtual = TestWaits.virtualThreads();
        Recycler<Buffer> r = Recycler.builder(Buffer::new).perThreadCapacity(64).sharedCapacity(16).build();
        Buffer mine = r.get();
        try (AutoCloseable closing = virtual::shutdown) {
            Future<Boolean> isVirtual = virtual.submit(() -> Recycler.isVirtual(Thread.currentThread()));
            assertTrue(isVirtual.get(10, TimeUnit.SECONDS));
            virtual.submit(() -> r.release(mine)).get(10, TimeUnit.SECONDS);
        }
        assertEquals(1, r.sharedSize(), "a virtual thread's release skips the private stack");
        assertSame(mine, r.get());
    }

    @Test
    void platformThreadsAreNotVirtual() {
        assertFalse(Recycler.isVirtual(Thread.currentThread()));
    }

    @Test
    void stressNeverHandsOneObjectToTwoHolders() throws Exception {
        Recycler<Buffer> r = Recycler.builder(Buffer::new).perThreadCapacity(4).sharedCapacity(16).build();
        int threads = 4;
        int rounds = Integer.getInteger("stress.elements", 1_000_000) / threads;
        AtomicInteger doubleHandOuts = new AtomicInteger();
        AtomicLong kept = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                Buffer[] hand = new Buffer[3];
                for (int i = 0; i < rounds; i++) {
                    int n = 1 + (i + seed) % 3;
                    for (int k = 0; k < n; k++) {
                        hand[k] = r.get();
                        if (!hand[k].held.compareAndSet(false, true)) {
                            doubleHandOuts.incrementAndGet();
                        }
                    }
                    for (int k = 0; k < n; k++) {
                        hand[k].held.set(false);
                        if (r.release(hand[k])) {
                            kept.incrementAndGet();
                        }
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(0, doubleHandOuts.get());
        // every object is either dropped or still cached: created = dropped + cached
        long cachedShared = r.sharedSize();
        assertTrue(r.created() - r.dropped() <= threads * 4L + cachedShared,
                "created " + r.created() + " dropped " + r.dropped() + " shared " + cachedShared);
        assertTrue(r.created() - r.dropped() >= cachedShared);
        assertTrue(kept.get() > 0);
    }

    @Test
    void badInputFailsFast() {
        assertThrows(NullPointerException.class, () -> Recycler.builder(null));
        Recycler.Builder<Buffer> b = Recycler.builder(Buffer::new);
        assertThrows(IllegalArgumentException.class, () -> b.perThreadCapacity(-1));
        assertThrows(IllegalArgumentException.class, () -> b.sharedCapacity(1));
        assertThrows(IllegalArgumentException.class, () -> b.sharedCapacity(-2));
        assertThrows(IllegalArgumentException.class, () -> b.perThreadCapacity(0).sharedCapacity(0).build());
        assertThrows(NullPointerException.class, () -> b.reset(null));
        assertThrows(NullPointerException.class, () -> b.retainIf(null));
        Recycler<Buffer> r = Recycler.builder(Buffer::new).build();
        assertThrows(NullPointerException.class, () -> r.release(null));
        Recycler<Buffer> nulls = Recycler.<Buffer>builder(() -> null).build();
        assertThrows(NullPointerException.class, nulls::get);
    }
}
