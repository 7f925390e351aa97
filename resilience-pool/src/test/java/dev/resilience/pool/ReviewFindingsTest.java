package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * What a hostile review of the pools found on 2026-12-01: a waiter that waits forever, a worker that
 * dies, a close that waits for itself. Each test failed (hung or timed out) before its fix.
 */
class ReviewFindingsTest {

    @Test
    void aSubmittedTaskSkippedBecauseItsContextEndedEndsItsFuture() throws Exception {
        WorkerPool pool = WorkerPool.builder().threads(1).build();
        CountDownLatch release = new CountDownLatch(1);
        try {
            pool.execute(() -> await(release)); // occupies the only worker
            Future<Integer> f;
            CompletableFuture<Integer> viaSupplyAsync;
            CancelHandle h = Context.background().withCancel();
            try (Scope s = h.attach()) {
                f = pool.submit(() -> 1);
                viaSupplyAsync = CompletableFuture.supplyAsync(() -> 2, pool);
            }
            h.cancel(); // the caller gives up while both wait in the queue
            release.countDown();
            assertThrows(CancellationException.class, () -> f.get(5, TimeUnit.SECONDS),
                    "skipped, and its future says so instead of waiting forever");
            assertEquals(2, viaSupplyAsync.get(5, TimeUnit.SECONDS),
                    "a CompletableFuture's own task runs anyway: nothing else would complete its future");
            assertEquals(1, pool.skipped());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aLoggingBackendThatThrowsDoesNotEndTheWorker() throws Exception {
        Logger jul = Logger.getLogger(WorkerPool.class.getName());
        Handler throwing = new Handler() {
            @Override
            public void publish(LogRecord record) {
                throw new IllegalStateException("a broken logging backend");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        boolean parents = jul.getUseParentHandlers();
        java.util.logging.Level level = jul.getLevel();
        jul.setUseParentHandlers(false);
        jul.setLevel(java.util.logging.Level.ALL); // the tests' logging.properties keeps the pools quiet
        jul.addHandler(throwing);
        WorkerPool pool = WorkerPool.builder().threads(1).build();
        try {
            pool.execute(() -> {
                throw new IllegalArgumentException("a task fails; its warning cannot be logged");
            });
            CountDownLatch next = new CountDownLatch(1);
            pool.execute(next::countDown);
            assertTrue(next.await(5, TimeUnit.SECONDS), "the only worker is still there");
            assertFalse(pool.isTerminated());
            assertEquals(1, pool.failed());
        } finally {
            jul.removeHandler(throwing);
            jul.setLevel(level);
            jul.setUseParentHandlers(parents);
            pool.shutdownNow();
        }
    }

    @Test
    void drainToACollectionThatThrowsStillWakesTheWaitingPutter() throws Exception {
        BlockingMessageQueue<String> q = new BlockingMessageQueue<>(new MpmcArrayQueue<>(2));
        q.put("a");
        q.put("b");
        CountDownLatch put = new CountDownLatch(1);
        Thread putter = new Thread(() -> {
            try {
                q.put("c"); // full: waits for room
                put.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        putter.start();
        TestWaits.awaitParked(putter);
        assertThrows(IllegalStateException.class, () -> q.drainTo(new ArrayBlockingQueue<>(1)),
                "the second add throws: Queue full");
        assertTrue(put.await(5, TimeUnit.SECONDS), "room was made: the putter got in");
        assertTrue(q.contains("c"));
    }

    @Test
    void closingThePoolFromItsOwnThreadDoesNotWaitForItself() throws Exception {
        AtomicReference<ObjectPool<Object>> self = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Throwable> closeFailure = new AtomicReference<>();
        ObjectPool<Object> pool = ObjectPool.builder(new Allocator<Object>() {
            @Override
            public Object allocate() throws Exception {
                throw new java.io.IOException("fatal: bad credentials");
            }

            @Override
            public void deallocate(Object object) {
            }
        }).maxSize(1).listener(new PoolListener() {
            @Override
            public void onAllocationFailed(ObjectPool<?> p, Throwable error) {
                try {
                    self.get().close(); // "close on a fatal error", on the pool's own thread
                } catch (Throwable e) {
                    closeFailure.set(e);
                }
            }

            @Override
            public void onClosed(ObjectPool<?> p) {
                closed.countDown();
            }
        }).build();
        self.set(pool);
        // the borrow fails either way: with the allocation's failure, or finding the pool closed
        Exception e = assertThrows(Exception.class, () -> pool.borrow(Duration.ofSeconds(5)));
        assertTrue(e instanceof PoolException || e instanceof IllegalStateException, e.toString());
        assertTrue(closed.await(5, TimeUnit.SECONDS), "the close finished on the pool's thread");
        assertEquals(null, closeFailure.get());
        assertTrue(pool.close(Duration.ofSeconds(5)), "a close from another thread sees it done");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
