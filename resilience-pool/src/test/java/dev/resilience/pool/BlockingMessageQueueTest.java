package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** put/take park instead of spinning, wake on each other, and honour the context. */
class BlockingMessageQueueTest {

    private final ManualTicker ticker = new ManualTicker();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    private CompletableFuture<Object> async(java.util.concurrent.Callable<Object> task, AtomicReference<Thread> t) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        pool.execute(() -> {
            t.set(Thread.currentThread());
            try {
                f.complete(task.call());
            } catch (Throwable e) {
                f.complete(e);
            }
        });
        while (t.get() == null) {
            Thread.onSpinWait();
        }
        return f;
    }

    @Test
    void drainToWithNoRoomForAnyElementDrainsNothingAsTheJdksQueuesDo() throws Exception {
        java.util.concurrent.BlockingQueue<Integer> jdk = new java.util.concurrent.ArrayBlockingQueue<>(4);
        BlockingMessageQueue<Integer> ours = new BlockingMessageQueue<>(new MpmcArrayQueue<>(4));
        for (java.util.concurrent.BlockingQueue<Integer> q : List.of(jdk, ours)) {
            q.put(1);
            q.put(2);
            List<Integer> into = new ArrayList<>();
            assertEquals(0, q.drainTo(into, 0), q.getClass().getSimpleName());
            assertEquals(0, q.drainTo(into, -1), q.getClass().getSimpleName());
            assertEquals(0, q.drainTo(into, Integer.MIN_VALUE), q.getClass().getSimpleName());
            assertEquals(List.of(), into);
            assertEquals(2, q.size());
            assertEquals(1, q.drainTo(into, 1));
            assertEquals(List.of(1), into);
        }
    }

    @Test
    void takeWaitsForPutAndPutWaitsForTake() throws Exception {
        BlockingMessageQueue<Integer> q = new BlockingMessageQueue<>(new MpmcArrayQueue<>(2), ticker);
        AtomicReference<Thread> taker = new AtomicReference<>();
        CompletableFuture<Object> taken = async(q::take, taker);
        TestWaits.awaitParked(taker.get());
        q.put(7);
        assertEquals(7, taken.get(10, TimeUnit.SECONDS));
        q.put(1);
        q.put(2);
        AtomicReference<Thread> putter = new AtomicReference<>();
        CompletableFuture<Object> put = async(() -> {
            q.put(3);
            return "put";
        }, putter);
        TestWaits.awaitParked(putter.get());
        assertFalse(put.isDone(), "full: the putter waits");
        assertEquals(1, q.take());
        assertEquals("put", put.get(10, TimeUnit.SECONDS));
        assertEquals(2, q.take());
        assertEquals(3, q.take());
    }

    @Test
    void timedPollAndOfferReturnOnTheirTimeout() throws Exception {
        BlockingMessageQueue<Integer> q = new BlockingMessageQueue<>(new SpscArrayQueue<>(2), ticker);
        AtomicReference<Thread> t = new AtomicReference<>();
        CompletableFuture<Object> polled = async(() -> String.valueOf(q.poll(100, TimeUnit.MILLISECONDS)), t);
        TestWaits.awaitParked(t.get());
        ticker.advance(Duration.ofMillis(100));
        assertEquals("null", polled.get(10, TimeUnit.SECONDS));
        assertTrue(q.offer(1, 1, TimeUnit.SECONDS));
        assertTrue(q.offer(2, 1, TimeUnit.SECONDS));
        assertEquals(0, q.remainingCapacity());
        AtomicReference<Thread> o = new AtomicReference<>();
        CompletableFuture<Object> offered = async(() -> q.offer(3, 50, TimeUnit.MILLISECONDS), o);
        TestWaits.awaitParked(o.get());
        ticker.advance(Duration.ofMillis(50));
        assertEquals(false, offered.get(10, TimeUnit.SECONDS));
    }

    @Test
    void takeEndsAtTheContextDeadlineAndOnCancellation() throws Exception {
        BlockingMessageQueue<Integer> q = new BlockingMessageQueue<>(new MpmcArrayQueue<>(4), ticker);
        CancelHandle timed = Context.background().withTimeout(Duration.ofMillis(30), ticker);
        AtomicReference<Thread> t1 = new AtomicReference<>();
        CompletableFuture<Object> r1 = async(timed.context().wrap(q::take), t1);
        TestWaits.awaitParked(t1.get());
        ticker.advance(Duration.ofMillis(30));
        assertInstanceOf(DeadlineExceededException.class, r1.get(10, TimeUnit.SECONDS));
        CancelHandle cancel = Context.background().withCancel();
        AtomicReference<Thread> t2 = new AtomicReference<>();
        CompletableFuture<Object> r2 = async(cancel.context().wrap(q::take), t2);
        TestWaits.awaitParked(t2.get());
        cancel.cancel();
        assertInstanceOf(ContextCancelledException.class, r2.get(10, TimeUnit.SECONDS));
        AtomicReference<Thread> t3 = new AtomicReference<>();
        CompletableFuture<Object> r3 = async(q::take, t3);
        TestWaits.awaitParked(t3.get());
        t3.get().interrupt();
        assertInstanceOf(InterruptedException.class, r3.get(10, TimeUnit.SECONDS));
        assertNull(q.poll());
    }

    @Test
    void manyPuttersAndTakersMoveEveryElementExactlyOnce() throws Exception {
        BlockingMessageQueue<Integer> q = new BlockingMessageQueue<>(new MpmcArrayQueue<>(16));
        int producers = 4;
        int perProducer = 50_000;
        AtomicLongArray seen = new AtomicLongArray(producers * perProducer);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int id = p;
            all.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < perProducer; i++) {
                    try {
                        q.put(id * perProducer + i);
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            }, pool));
        }
        for (int c = 0; c < 4; c++) {
            all.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < perProducer; i++) {
                    try {
                        seen.incrementAndGet(q.take());
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            }, pool));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(2, TimeUnit.MINUTES);
        }
        for (int i = 0; i < seen.length(); i++) {
            assertEquals(1, seen.get(i), "element " + i);
        }
        List<Integer> rest = new ArrayList<>();
        assertEquals(0, q.drainTo(rest));
    }
}
