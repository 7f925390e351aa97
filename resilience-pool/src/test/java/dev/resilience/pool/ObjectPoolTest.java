package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ObjectPoolTest {

    /** A pooled resource that knows whether it is held and whether it was destroyed. */
    static final class Conn {
        final int id;
        final AtomicBoolean held = new AtomicBoolean();
        volatile boolean destroyed;
        volatile boolean healthy = true;

        Conn(int id) {
            this.id = id;
        }

        @Override
        public String toString() {
            return "Conn" + id;
        }
    }

    /** Records what the pool asks of it; can be told to fail. */
    static final class Recording implements Allocator<Conn> {
        final AtomicInteger made = new AtomicInteger();
        final AtomicInteger failuresToCome = new AtomicInteger();
        final BlockingQueue<Conn> allocated = new LinkedBlockingQueue<>();
        final BlockingQueue<Conn> deallocated = new LinkedBlockingQueue<>();

        @Override
        public Conn allocate() throws IOException {
            if (failuresToCome.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IOException("database down");
            }
            Conn c = new Conn(made.incrementAndGet());
            allocated.add(c);
            return c;
        }

        @Override
        public void deallocate(Conn c) {
            assertFalse(c.destroyed, "destroyed twice: " + c);
            c.destroyed = true;
            deallocated.add(c);
        }

        @Override
        public boolean validate(Conn c) {
            return c.healthy;
        }

        Conn nextDeallocated() throws InterruptedException {
            Conn c = deallocated.poll(10, TimeUnit.SECONDS);
            assertNotNull(c, "nothing was deallocated within 10 s");
            return c;
        }
    }

    private final ManualTicker ticker = new ManualTicker();
    private final Recording allocator = new Recording();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<ObjectPool<Conn>> pools = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        threads.shutdownNow();
        for (ObjectPool<Conn> p : pools) {
            p.close(Duration.ZERO); // starts closing; a test's own ManualTicker would never time a wait out
        }
    }

    private ObjectPool<Conn> pool(ObjectPool.Builder<Conn> b) {
        ObjectPool<Conn> p = b.build();
        pools.add(p);
        return p;
    }

    private ObjectPool.Builder<Conn> builder() {
        return ObjectPool.builder(allocator).ticker(ticker);
    }

    private static void sweep(ObjectPool<Conn> pool, ManualTicker ticker, Duration by) {
        long before = pool.sweeps();
        ticker.advance(by);
        TestWaits.await(() -> pool.sweeps() > before, "a sweep");
    }

    /** Runs {@code borrow} on another thread and waits until it is parked in the pool. */
    private CompletableFuture<Object> waitingBorrower(ObjectPool<Conn> pool, java.util.concurrent.Callable<Object> borrow) {
        CompletableFuture<Object> result = new CompletableFuture<>();
        AtomicReference<Thread> thread = new AtomicReference<>();
        int before = pool.pendingBorrowers();
        threads.execute(() -> {
            thread.set(Thread.currentThread());
            try {
                result.complete(borrow.call());
            } catch (Throwable e) {
                result.complete(e);
            }
        });
        TestWaits.await(() -> pool.pendingBorrowers() > before, "the borrower waits");
        TestWaits.await(() -> thread.get() != null, "thread known");
        TestWaits.awaitParked(thread.get());
        return result;
    }

    /**
     * A return that wakes a borrower while the borrower's first wait on its context arms the
     * context's deadline timer (under the shared scheduler's lock, whose park can use up the unpark)
     * must not be lost: the borrower gets the object at once, not when its 60 s wait ends. Fails
     * within seconds with the fix in Context.parkUntil taken out.
     */
    @Test
    void aReturnRacingTheBorrowersFirstListenHandsOverTheObject() throws Exception {
        ObjectPool<Conn> pool = pool(ObjectPool.builder(allocator).maxSize(1)); // the system clock
        ExecutorService worker = Executors.newSingleThreadExecutor();
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = new Thread(() -> { // other requests arming and dropping timers: the lock is contended
            while (!stop.get()) {
                CancelHandle other = Context.background().withTimeout(Duration.ofSeconds(30));
                other.context().onDone(() -> { }, Runnable::run);
                other.cancel();
            }
        });
        churn.start();
        try {
            for (int round = 0; round < 5_000; round++) {
                Lease<Conn> held = pool.borrow();
                CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(30)); // not yet listened to
                CountDownLatch started = new CountDownLatch(1);
                java.util.concurrent.Future<Lease<Conn>> got = worker.submit(() -> {
                    try (Scope s = h.context().attach()) {
                        started.countDown();
                        return pool.borrow(Duration.ofSeconds(60));
                    }
                });
                started.await();
                for (int spin = round % 64; spin > 0; spin--) {
                    Thread.onSpinWait(); // spreads the return over the borrower's path into its wait
                }
                held.close();
                Lease<Conn> lease = got.get(10, TimeUnit.SECONDS);
                assertNotNull(lease.get(), "round " + round);
                lease.close();
                h.cancel();
            }
            assertEquals(1, pool.idle());
            assertEquals(0, pool.pendingBorrowers());
        } finally {
            stop.set(true);
            churn.join();
            worker.shutdownNow();
        }
    }

    @Test
    void borrowWaitsForTheBackgroundAllocationAndTheSameThreadGetsItsObjectBack() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(2));
        Conn first;
        try (Lease<Conn> lease = pool.borrow()) {
            first = lease.get();
        }
        for (int i = 0; i < 100; i++) {
            try (Lease<Conn> lease = pool.borrow()) {
                assertSame(first, lease.get());
            }
        }
        assertEquals(1, allocator.made.get());
        assertEquals(1, pool.size());
    }

    @Test
    void minIdleObjectsAreMadeInTheBackground() throws Exception {
        ObjectPool<Conn> pool = pool(builder().minIdle(3).maxSize(5));
        TestWaits.await(() -> allocator.made.get() == 3, "three allocated");
        TestWaits.await(() -> pool.idle() == 3, "three idle");
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Lease<Conn> l = pool.tryBorrow();
            assertNotNull(l, "idle object " + i);
            leases.add(l);
        }
        // borrowing them all leaves fewer than minIdle idle: the pool makes more, up to maxSize
        TestWaits.await(() -> allocator.made.get() == 5, "topped up to maxSize");
        assertEquals(5, pool.size());
        leases.forEach(Lease::close);
    }

    @Test
    void theMaximumSizeHoldsAndABorrowerTimesOutOnTheTicker() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(2).borrowTimeout(Duration.ofSeconds(2)));
        Lease<Conn> a = pool.borrow();
        Lease<Conn> b = pool.borrow();
        assertNotSame(a.get(), b.get());
        assertNull(pool.tryBorrow());
        CompletableFuture<Object> waiter = waitingBorrower(pool, pool::borrow);
        ticker.advance(Duration.ofSeconds(1));
        assertFalse(waiter.isDone());
        ticker.advance(Duration.ofSeconds(1));
        assertInstanceOf(PoolTimeoutException.class, waiter.get(10, TimeUnit.SECONDS));
        assertEquals(2, allocator.made.get());
        a.close();
        b.close();
    }

    @Test
    void aWaitingBorrowerGetsTheNextReturnedObject() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        Lease<Conn> a = pool.borrow();
        Conn held = a.get();
        CompletableFuture<Object> waiter = waitingBorrower(pool, () -> {
            try (Lease<Conn> l = pool.borrow()) {
                return l.get();
            }
        });
        a.close();
        assertSame(held, waiter.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aBorrowWaitsNoLongerThanTheContextDeadline() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        Lease<Conn> a = pool.borrow();
        CompletableFuture<Object> waiter = waitingBorrower(pool, () -> {
            try (CancelHandle h = Context.current().withTimeout(Duration.ofMillis(100), ticker); Scope s = h.attach()) {
                return pool.borrow();
            }
        });
        ticker.advance(Duration.ofMillis(100));
        assertInstanceOf(DeadlineExceededException.class, waiter.get(10, TimeUnit.SECONDS));
        a.close();
    }

    @Test
    void anAllocationErrorReachesABorrowerAndThePoolRecoversWithTheAllocator() throws Exception {
        allocator.failuresToCome.set(2);
        AtomicInteger reported = new AtomicInteger();
        ObjectPool<Conn> pool = pool(builder().maxSize(2).listener(new PoolListener() {
            @Override
            public void onAllocationFailed(ObjectPool<?> pool, Throwable error) {
                reported.incrementAndGet();
            }
        }));
        PoolException first = assertThrows(PoolException.class, pool::borrow);
        assertInstanceOf(IOException.class, first.getCause());
        PoolException second = assertThrows(PoolException.class, pool::borrow);
        assertEquals("database down", second.getCause().getMessage());
        try (Lease<Conn> lease = pool.borrow()) {
            assertEquals(1, lease.get().id);
        }
        assertEquals(2, pool.allocationFailures());
        assertEquals(2, reported.get());
        // failed slots left the size: a pool of at most 2 still allocated after two failures (it may
        // have made a second object for the waiter, when the waiter took the first between two looks)
        assertTrue(pool.size() >= 1 && pool.size() <= 2, "size " + pool.size());
    }

    @Test
    void aFailingAllocatorDoesNotWedgeWaitingBorrowers() throws Exception {
        allocator.failuresToCome.set(1);
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        List<CompletableFuture<Object>> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiters.add(CompletableFuture.supplyAsync(() -> {
                try (Lease<Conn> l = pool.borrow()) {
                    return l.get();
                } catch (Exception e) {
                    return e;
                }
            }, threads));
        }
        int errors = 0;
        for (CompletableFuture<Object> w : waiters) {
            Object r = w.get(10, TimeUnit.SECONDS);
            errors += r instanceof PoolException ? 1 : 0;
            assertTrue(r instanceof PoolException || r instanceof Conn, String.valueOf(r));
        }
        assertEquals(1, errors, "the one error went to exactly one borrower");
    }

    @Test
    void validationOnBorrowDestroysABrokenObjectAndLendsAnother() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(2).validateOnBorrow(true));
        Conn first;
        try (Lease<Conn> l = pool.borrow()) {
            first = l.get();
        }
        first.healthy = false;
        try (Lease<Conn> l = pool.borrow()) {
            assertNotSame(first, l.get());
        }
        assertSame(first, allocator.nextDeallocated());
    }

    @Test
    void periodicValidationDestroysBrokenIdleObjects() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(2).minIdle(1)
                .validateIdleEvery(Duration.ofSeconds(5)).maintenanceInterval(Duration.ofSeconds(5)));
        Conn c = allocator.allocated.poll(10, TimeUnit.SECONDS);
        assertNotNull(c);
        TestWaits.await(() -> pool.idle() == 1, "queued (after its times are set)");
        c.healthy = false;
        sweep(pool, ticker, Duration.ofSeconds(5));
        assertSame(c, allocator.nextDeallocated());
        TestWaits.await(() -> allocator.made.get() == 2, "a replacement for minIdle");
    }

    @Test
    void objectsPastTheirLifetimeAreDestroyedIdleOrWhenReturned() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(3).maxLifetime(Duration.ofSeconds(10))
                .maintenanceInterval(Duration.ofSeconds(1)));
        Lease<Conn> kept = pool.borrow();
        Lease<Conn> returned = pool.borrow();
        Conn idleOne = returned.get();
        returned.close();
        sweep(pool, ticker, Duration.ofSeconds(11));
        assertSame(idleOne, allocator.nextDeallocated(), "the idle one is destroyed by the sweep");
        Conn busy = kept.get();
        assertFalse(busy.destroyed, "a borrowed one is not taken away from its borrower");
        kept.close();
        assertSame(busy, allocator.nextDeallocated(), "it is destroyed on return");
        try (Lease<Conn> fresh = pool.borrow()) {
            assertEquals(3, fresh.get().id);
        }
    }

    @Test
    void idleObjectsAreEvictedDownToMinIdle() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(3).minIdle(1).idleTimeout(Duration.ofSeconds(3))
                .maintenanceInterval(Duration.ofSeconds(1)));
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            leases.add(pool.borrow());
        }
        leases.forEach(Lease::close);
        sweep(pool, ticker, Duration.ofSeconds(1)); // notes that they were used
        sweep(pool, ticker, Duration.ofSeconds(2));
        assertEquals(0, allocator.deallocated.size(), "idle for 2 s only");
        sweep(pool, ticker, Duration.ofSeconds(1));
        allocator.nextDeallocated();
        allocator.nextDeallocated();
        assertEquals(1, pool.size());
        sweep(pool, ticker, Duration.ofSeconds(10));
        assertEquals(1, pool.size(), "minIdle is kept");
    }

    @Test
    void leaksAreReportedWithWhereTheyWereBorrowed() throws Exception {
        BlockingQueue<Throwable> reports = new LinkedBlockingQueue<>();
        ObjectPool<Conn> pool = pool(builder().maxSize(2).leakDetection(Duration.ofSeconds(5))
                .maintenanceInterval(Duration.ofSeconds(1)).listener(new PoolListener() {
                    @Override
                    public void onLeakSuspected(ObjectPool<?> pool, Object object, Duration held, Throwable borrowedAt) {
                        reports.add(borrowedAt);
                    }
                }));
        Lease<Conn> leaked = borrowForLeak(pool);
        try (Lease<Conn> returned = pool.borrow()) {
            assertNotNull(returned.get());
        }
        sweep(pool, ticker, Duration.ofSeconds(6));
        Throwable where = reports.poll(10, TimeUnit.SECONDS);
        assertNotNull(where);
        StringWriter trace = new StringWriter();
        where.printStackTrace(new PrintWriter(trace));
        assertTrue(trace.toString().contains("borrowForLeak"), trace.toString());
        sweep(pool, ticker, Duration.ofSeconds(6));
        assertEquals(1, pool.leaksDetected(), "reported once per lease");
        assertTrue(reports.isEmpty());
        leaked.close();
    }

    private static Lease<Conn> borrowForLeak(ObjectPool<Conn> pool) throws InterruptedException {
        return pool.borrow();
    }

    @Test
    void closeWaitsForLeasesAndDestroysEverything() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(3).minIdle(2));
        TestWaits.await(() -> allocator.made.get() == 2, "minIdle made");
        Lease<Conn> held = pool.borrow();
        CompletableFuture<Object> closing = CompletableFuture.supplyAsync(() -> {
            try {
                pool.close();
                return "closed";
            } catch (Exception e) {
                return e;
            }
        }, threads);
        TestWaits.await(pool::isClosed, "closing");
        assertThrows(IllegalStateException.class, pool::borrow);
        TestWaits.await(() -> allocator.deallocated.size() == allocator.made.get() - 1, "idle ones destroyed");
        assertFalse(closing.isDone(), "close waits for the lease");
        assertFalse(held.get().destroyed);
        held.close();
        assertEquals("closed", closing.get(10, TimeUnit.SECONDS));
        assertEquals(allocator.made.get(), allocator.deallocated.size());
        assertEquals(0, pool.size());
    }

    @Test
    void closeWakesWaitingBorrowers() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        Lease<Conn> held = pool.borrow();
        CompletableFuture<Object> waiter = waitingBorrower(pool, pool::borrow);
        assertFalse(pool.close(Duration.ZERO), "a lease is still out");
        assertInstanceOf(IllegalStateException.class, waiter.get(10, TimeUnit.SECONDS));
        held.close();
        assertTrue(pool.close(Duration.ofSeconds(10)));
    }

    @Test
    void invalidateDestroysInsteadOfReturning() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        Lease<Conn> l = pool.borrow();
        Conn c = l.get();
        l.invalidate();
        assertSame(c, allocator.nextDeallocated());
        try (Lease<Conn> next = pool.borrow()) {
            assertNotSame(c, next.get());
        }
    }

    @Test
    void aLeaseEndsOnce() throws Exception {
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        Lease<Conn> l = pool.borrow();
        l.close();
        assertThrows(IllegalStateException.class, l::close);
        assertThrows(IllegalStateException.class, l::get);
        assertThrows(IllegalStateException.class, l::invalidate);
        Lease<Conn> invalidated = pool.borrow();
        invalidated.invalidate();
        invalidated.close(); // as try-with-resources does after an invalidate: nothing
        assertThrows(IllegalStateException.class, invalidated::invalidate);
        assertThrows(IllegalStateException.class, invalidated::get);
    }

    @Test
    void stressNoObjectIsLentTwiceAndEverythingIsDestroyedAtClose() throws Exception {
        ObjectPool<Conn> pool = pool(ObjectPool.builder(allocator).maxSize(3).minIdle(1)
                .ticker(Ticker.system()).maintenanceInterval(Duration.ofMillis(5)));
        int workers = 4;
        int rounds = Integer.getInteger("stress.elements", 1_000_000) / 20;
        AtomicInteger doubleLends = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int seed = w;
            done.add(CompletableFuture.runAsync(() -> {
                try {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        Lease<Conn> l = (i + seed) % 2 == 0 ? pool.borrow() : pool.tryBorrow();
                        if (l == null) {
                            continue;
                        }
                        Conn c = l.get();
                        if (!c.held.compareAndSet(false, true) || c.destroyed) {
                            doubleLends.incrementAndGet();
                        }
                        c.held.set(false);
                        if (i % 997 == 0) {
                            l.invalidate();
                        } else {
                            l.close();
                        }
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, threads));
        }
        start.countDown();
        for (CompletableFuture<Void> d : done) {
            d.get(120, TimeUnit.SECONDS);
        }
        assertEquals(0, doubleLends.get());
        assertTrue(pool.size() <= 3);
        assertTrue(pool.close(Duration.ofSeconds(10)));
        assertEquals(allocator.made.get(), allocator.deallocated.size(), "every allocated object destroyed once");
    }

    @Test
    void thousandsOfVirtualThreadsShareASmallPool() throws Exception {
        ExecutorService virtual = TestWaits.virtualThreads();
        ObjectPool<Conn> pool = pool(ObjectPool.builder(allocator).maxSize(4).ticker(Ticker.system()));
        AtomicInteger doubleLends = new AtomicInteger();
        List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
        try (AutoCloseable closing = virtual::shutdown) {
            for (int i = 0; i < 5_000; i++) {
                futures.add(virtual.submit(() -> {
                    try (Lease<Conn> l = pool.borrow()) {
                        if (!l.get().held.compareAndSet(false, true)) {
                            doubleLends.incrementAndGet();
                        }
                        l.get().held.set(false);
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        assertEquals(0, doubleLends.get());
        assertTrue(allocator.made.get() <= 4);
    }

    @Test
    void badInputFailsFast() throws Exception {
        assertThrows(NullPointerException.class, () -> ObjectPool.builder(null));
        ObjectPool.Builder<Conn> b = builder();
        assertThrows(IllegalArgumentException.class, () -> b.maxSize(0));
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> b.maxSize(ObjectPool.MAX_SIZE + 1), "not 'unbounded': its ring is allocated up front");
        assertTrue(huge.getMessage().contains("maxSize"), huge.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.maxSize(Integer.MAX_VALUE));
        b.maxSize(ObjectPool.MAX_SIZE); // the largest is taken
        assertThrows(IllegalArgumentException.class, () -> b.minIdle(-1));
        assertThrows(IllegalArgumentException.class, () -> b.maxLifetime(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> b.idleTimeout(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.borrowTimeout(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.maintenanceInterval(Duration.ZERO));
        assertThrows(NullPointerException.class, () -> b.leakDetection(null));
        assertThrows(NullPointerException.class, () -> b.ticker(null));
        assertThrows(IllegalArgumentException.class, () -> builder().maxSize(2).minIdle(3).build());
        ObjectPool<Conn> pool = pool(builder().maxSize(1));
        assertThrows(IllegalArgumentException.class, () -> pool.borrow(Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> pool.borrow(null));
    }
}
