package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Suppression;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * ObjectPool against the allocator's own count of live objects, and against hostile user code:
 * allocator, validation and listener methods that throw {@code RuntimeException}s and
 * {@code Error}s, return null, or block. The pool never has more than {@code maxSize} objects alive
 * as the allocator sees them, loses no object, and closes.
 */
class ObjectPoolHostileTest {

    /** Counts live objects itself (allocate .. deallocate) and remembers the most it ever saw. */
    static final class Counting implements Allocator<Integer> {
        final AtomicInteger alive = new AtomicInteger();
        final AtomicInteger mostAlive = new AtomicInteger();
        final AtomicInteger allocations = new AtomicInteger();
        final AtomicInteger deallocations = new AtomicInteger();
        final long allocateMillis;
        final double invalidShare;

        Counting(long allocateMillis, double invalidShare) {
            this.allocateMillis = allocateMillis;
            this.invalidShare = invalidShare;
        }

        @Override
        public Integer allocate() throws InterruptedException {
            mostAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
            if (allocateMillis > 0) {
                Thread.sleep(allocateMillis); // the simulated slow connect
            }
            return allocations.incrementAndGet();
        }

        @Override
        public void deallocate(Integer object) {
            deallocations.incrementAndGet();
            alive.decrementAndGet();
        }

        @Override
        public boolean validate(Integer object) {
            return ThreadLocalRandom.current().nextDouble() >= invalidShare;
        }
    }

    private static void churn(ObjectPool<Integer> pool, int threads, long millis) throws Exception {
        List<Thread> workers = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        Lease<Integer> lease = pool.borrow(Duration.ofSeconds(5));
                        if (ThreadLocalRandom.current().nextInt(3) == 0) {
                            lease.invalidate();
                        } else {
                            lease.close();
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                        return;
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        Thread.sleep(millis); // how long the churn lasts, not a wait for a condition
        stop.set(true);
        for (Thread w : workers) {
            w.join(10_000);
            assertFalse(w.isAlive());
        }
        assertTrue(failures.isEmpty(), () -> "borrowers failed: " + failures);
    }

    @Test
    void neverMoreThanMaxSizeAliveAsTheAllocatorSeesItUnderInvalidationChurn() throws Exception {
        for (long allocateMillis : new long[] {2, 0}) {
            Counting allocator = new Counting(allocateMillis, 0.1);
            ObjectPool<Integer> pool = ObjectPool.builder(allocator).maxSize(4).validateOnBorrow(true)
                    .maintenanceInterval(Duration.ofMillis(5)).validateIdleEvery(Duration.ofMillis(5)).build();
            churn(pool, 6, 700);
            assertTrue(pool.close(Duration.ofSeconds(10)));
            assertTrue(allocator.mostAlive.get() <= 4, "allocator " + allocateMillis + " ms: "
                    + allocator.mostAlive.get() + " alive at once with maxSize 4");
            assertEquals(0, allocator.alive.get(), "everything deallocated");
            assertEquals(allocator.allocations.get(), allocator.deallocations.get());
            assertTrue(allocator.allocations.get() > 4, "objects were replaced: " + allocator.allocations.get());
        }
    }

    @Test
    void closeCompletesOnceABlockedAllocatorReturns() throws Exception {
        CountDownLatch unblock = new CountDownLatch(1);
        AtomicInteger deallocated = new AtomicInteger();
        CountDownLatch closedEvent = new CountDownLatch(1);
        ObjectPool<String> pool = ObjectPool.builder(new Allocator<String>() {
            @Override
            public String allocate() throws InterruptedException {
                unblock.await();
                return "conn";
            }

            @Override
            public void deallocate(String object) {
                deallocated.incrementAndGet();
            }
        }).listener(new PoolListener() {
            @Override
            public void onClosed(ObjectPool<?> pool) {
                closedEvent.countDown();
            }
        }).build();
        CompletableFuture<Object> borrower = CompletableFuture.supplyAsync(() -> {
            try {
                return pool.borrow(Duration.ofSeconds(10));
            } catch (Throwable e) {
                return e;
            }
        });
        TestWaits.await(() -> pool.size() == 1, "the allocation started");
        assertFalse(pool.close(Duration.ofMillis(200)), "the allocator is still blocked");
        unblock.countDown();
        assertTrue(pool.close(Duration.ofSeconds(10)), "closed once the allocator returned");
        assertTrue(closedEvent.await(5, TimeUnit.SECONDS));
        assertEquals(0, pool.size());
        assertEquals(1, deallocated.get(), "the late object was deallocated");
        assertTrue(borrower.get(5, TimeUnit.SECONDS) instanceof IllegalStateException, "the borrower saw the close");
    }

    /** A listener whose every method throws {@code error}. */
    private static PoolListener throwing(Throwable error) {
        return new PoolListener() {
            private void fail() {
                if (error instanceof Error) {
                    throw (Error) error;
                }
                throw (RuntimeException) error;
            }

            @Override
            public void onAllocated(ObjectPool<?> pool) {
                fail();
            }

            @Override
            public void onAllocationFailed(ObjectPool<?> pool, Throwable e) {
                fail();
            }

            @Override
            public void onDestroyed(ObjectPool<?> pool, DestroyReason reason) {
                fail();
            }

            @Override
            public void onBorrowWaited(ObjectPool<?> pool, long waitNanos) {
                fail();
            }

            @Override
            public void onBorrowTimedOut(ObjectPool<?> pool, long waitNanos) {
                fail();
            }

            @Override
            public void onClosed(ObjectPool<?> pool) {
                fail();
            }

            @Override
            public void onLeakSuspected(ObjectPool<?> pool, Object object, Duration held, Throwable borrowedAt) {
                fail();
            }
        };
    }

    @Test
    void aThrowingListenerLosesNoObjectAndNoLease() throws Exception {
        for (Throwable error : List.of(new IllegalStateException("listener bug"), new AssertionError("listener bug"))) {
            try (CapturedLog log = CapturedLog.of(ObjectPool.class)) {
                Counting allocator = new Counting(0, 0);
                ObjectPool<Integer> pool = ObjectPool.builder(allocator).maxSize(1).listener(throwing(error))
                        .leakDetection(Duration.ofMillis(1)).maintenanceInterval(Duration.ofMillis(5)).build();
                Lease<Integer> first = pool.borrow(Duration.ofSeconds(5)); // waited: borrowWaited and allocated throw
                assertNotNull(first.get());
                TestWaits.await(() -> pool.leaksDetected() >= 1, "the leak reported despite the listener");
                first.invalidate(); // destroyed throws
                Lease<Integer> second = pool.borrow(Duration.ofSeconds(5));
                Integer secondObject = second.get();
                assertThrows(PoolTimeoutException.class, () -> pool.borrow(Duration.ofMillis(20))); // borrowTimedOut throws
                second.close();
                try (Lease<Integer> again = pool.borrow(Duration.ofSeconds(5))) {
                    assertSame(secondObject, again.get(), "the only object is still in the pool");
                }
                assertTrue(pool.close(Duration.ofSeconds(5)), "closes though closed() throws");
                assertEquals(0, allocator.alive.get(), "no object lost");
                assertEquals(2, allocator.allocations.get());
                assertTrue(log.has(Level.SEVERE, "listener.onAllocated threw"));
                assertTrue(log.has(Level.SEVERE, "listener.onBorrowWaited threw"));
                assertTrue(log.has(Level.SEVERE, "listener.onDestroyed threw"));
            }
        }
    }

    @Test
    void hostileAllocatorMethodsNeverWedgeOrLeak() throws Exception {
        for (Throwable error : List.of(new IllegalStateException("allocator bug"), new OutOfMemoryError("allocator bug"),
                new java.io.IOException("allocator bug (checked)"))) {
            try (CapturedLog log = CapturedLog.of(ObjectPool.class)) {
                AtomicInteger mode = new AtomicInteger(); // 0: throw, 1: null, 2: fine
                AtomicInteger alive = new AtomicInteger();
                AtomicBoolean validateThrows = new AtomicBoolean();
                AtomicBoolean deallocateThrows = new AtomicBoolean(true);
                ObjectPool<Integer> pool = ObjectPool.builder(new Allocator<Integer>() {
                    @Override
                    public Integer allocate() {
                        switch (mode.get()) {
                            case 0:
                                throwIt(error);
                                return null;
                            case 1:
                                return null;
                            default:
                                return alive.incrementAndGet();
                        }
                    }

                    @Override
                    public void deallocate(Integer object) {
                        alive.decrementAndGet();
                        if (deallocateThrows.get()) {
                            throwIt(error);
                        }
                    }

                    @Override
                    public boolean validate(Integer object) {
                        if (validateThrows.get()) {
                            throwIt(error);
                        }
                        return true;
                    }
                }).maxSize(2).validateOnBorrow(true).build();
                PoolException thrown = assertThrows(PoolException.class, () -> pool.borrow(Duration.ofSeconds(5)));
                assertEquals(error, thrown.getCause());
                mode.set(1);
                thrown = assertThrows(PoolException.class, () -> pool.borrow(Duration.ofSeconds(5)));
                assertTrue(thrown.getCause() instanceof NullPointerException);
                mode.set(2);
                pool.borrow(Duration.ofSeconds(5)).close(); // one idle object
                validateThrows.set(true);
                assertNull(pool.tryBorrow(), "validate threw: the idle object counts as invalid and is destroyed");
                validateThrows.set(false);
                TestWaits.await(() -> alive.get() == 0, "destroyed, though deallocate threw");
                try (Lease<Integer> l = pool.borrow(Duration.ofSeconds(5))) {
                    assertNotNull(l.get(), "a new one made");
                }
                assertTrue(pool.close(Duration.ofSeconds(5)), "closes though deallocate throws");
                assertEquals(0, alive.get(), "every object deallocated");
                assertEquals(0, pool.size());
                assertTrue(log.has(Level.WARNING, "deallocate failed"));
            }
        }
    }

    @Test
    void aTickerThatThrowsACheckedExceptionOnTheBackgroundThreadDoesNotEndItAndCloseCompletes() throws Exception {
        // The allocator's methods are guarded where they are called; the ticker is read by the
        // background loop itself, so what it throws reaches the loop's own guard.
        Thread test = Thread.currentThread();
        AtomicBoolean armed = new AtomicBoolean(true);
        java.io.IOException checked = new java.io.IOException("ticker broke (checked, thrown past read())");
        Ticker hostile = () -> {
            if (Thread.currentThread() != test && armed.compareAndSet(true, false)) {
                throw Suppression.rethrow(checked);
            }
            return System.nanoTime();
        };
        try (CapturedLog log = CapturedLog.of(ObjectPool.class)) {
            ObjectPool<Integer> pool = ObjectPool.builder(new Counting(0, 0)).maxSize(2).ticker(hostile).build();
            TestWaits.await(() -> !armed.get(), "the background thread read the ticker");
            try (Lease<Integer> l = pool.borrow(Duration.ofSeconds(5))) {
                assertNotNull(l.get(), "the pool still lends");
            }
            assertTrue(pool.close(Duration.ofSeconds(5)), "the background thread survived and closed the pool");
            assertTrue(log.has(Level.SEVERE, "background thread error"), "the ticker's exception was logged");
        }
    }

    @Test
    void aTickerThatAlwaysThrowsOnTheBackgroundThreadDoesNotSpinItAndCloseCompletes() throws Exception {
        // Every pass of the background loop fails at its first ticker reading. Without a pause after
        // an error the thread would read and log millions of times a second.
        Thread test = Thread.currentThread();
        AtomicInteger backgroundReads = new AtomicInteger();
        Ticker hostile = () -> {
            if (Thread.currentThread() != test) {
                backgroundReads.incrementAndGet();
                throw new IllegalStateException("ticker broke for good");
            }
            return System.nanoTime();
        };
        try (CapturedLog log = CapturedLog.of(ObjectPool.class)) {
            ObjectPool<Integer> pool = ObjectPool.builder(new Counting(0, 0)).maxSize(2).ticker(hostile).build();
            TestWaits.await(() -> backgroundReads.get() > 0, "the background thread read the ticker");
            Thread.sleep(500);
            int reads = backgroundReads.get();
            // pauses of 1, 2, 4, ... ms: about 9 passes in 500 ms; allow for a slow machine's wake-ups
            assertTrue(reads <= 50, "the background thread paused between failures, passes: " + reads);
            assertTrue(pool.close(Duration.ofSeconds(5)), "close completes with the ticker still failing");
            assertTrue(log.has(Level.SEVERE, "background thread error"), "the ticker's exception was logged");
        }
    }

    @Test
    void aThreadFactoryThatReturnsNullIsNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ObjectPool.builder(new Counting(0, 0)).maxSize(1).threadFactory(r -> null).build());
        assertTrue(e.getMessage().contains("thread factory returned null"), e.getMessage());
    }

    /** Throws {@code t} as it is, a checked exception too (the allocator's methods may throw any). */
    private static void throwIt(Throwable t) {
        throw Suppression.rethrow(t);
    }
}
