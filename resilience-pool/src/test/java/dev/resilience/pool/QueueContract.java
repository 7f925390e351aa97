package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.resilience.context.internal.Suppression;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every bounded queue keeps, run against each of ours and against
 * {@link ArrayBlockingQueue} as a control (in the spirit of JCTools' {@code QueueSanityTest}).
 * The stress test moves {@code -Dstress.elements} elements (default 1,000,000; 20,000,000 for the
 * long run) through the largest legal producer/consumer shape and checks that every element
 * arrives exactly once and in per-producer order.
 */
abstract class QueueContract {

    static final int STRESS_ELEMENTS = Integer.getInteger("stress.elements", 1_000_000);

    private final java.util.function.IntFunction<Queue<Integer>> factory;
    /** Producers the queue allows at once. */
    private final int producers;
    /** Consumers the queue allows at once. */
    private final int consumers;

    QueueContract(java.util.function.IntFunction<Queue<Integer>> factory, int producers, int consumers) {
        this.factory = factory;
        this.producers = producers;
        this.consumers = consumers;
    }

    Queue<Integer> create(int capacity) {
        return factory.apply(capacity);
    }

    /** {@link #create} as one of our queues, with drain and fill; skips the test for the JDK's control queue. */
    @SuppressWarnings("unchecked")
    MessageQueue<Integer> messageQueue(int capacity) {
        Queue<Integer> raw = create(capacity);
        assumeTrue(raw instanceof MessageQueue, "drain and fill are ours");
        return (MessageQueue<Integer>) raw;
    }

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    @Test
    void fifoWithFullAndEmptyEdges() {
        Queue<Integer> q = create(8);
        assertTrue(q.isEmpty());
        assertNull(q.poll());
        assertNull(q.peek());
        for (int i = 0; i < 8; i++) {
            assertTrue(q.offer(i), "offer " + i);
        }
        assertFalse(q.offer(99), "full");
        assertEquals(8, q.size());
        assertEquals(0, q.peek());
        for (int i = 0; i < 8; i++) {
            assertEquals(i, q.poll());
        }
        assertNull(q.poll());
        assertTrue(q.isEmpty());
        assertEquals(0, q.size());
    }

    @Test
    void wrapsAroundManyTimes() {
        Queue<Integer> q = create(4);
        for (int i = 0; i < 100_000; i++) {
            assertTrue(q.offer(i));
            assertTrue(q.offer(i + 1));
            assertEquals(i, q.poll());
            assertEquals(i + 1, q.poll());
        }
        assertNull(q.poll());
    }

    @Test
    void nullsAreRejected() {
        Queue<Integer> q = create(4);
        assertThrows(NullPointerException.class, () -> q.offer(null));
        assertTrue(q.isEmpty());
    }

    @Test
    void iterationSeesTheElementsOldestFirst() {
        Queue<Integer> q = create(8);
        q.offer(1);
        q.offer(2);
        q.offer(3);
        q.poll();
        List<Integer> seen = new ArrayList<>();
        q.forEach(seen::add);
        assertEquals(List.of(2, 3), seen);
    }

    @Test
    void drainAndFillRespectTheirLimits() {
        MessageQueue<Integer> q = messageQueue(16);
        AtomicInteger next = new AtomicInteger();
        assertEquals(5, q.fill(next::getAndIncrement, 5));
        assertEquals(11, q.fill(next::getAndIncrement), "fill stops when full");
        assertEquals(16, q.size());
        List<Integer> out = new ArrayList<>();
        assertEquals(3, q.drain(out::add, 3));
        assertEquals(List.of(0, 1, 2), out);
        assertEquals(13, q.drain(out::add));
        assertEquals(16, out.size());
        assertEquals(0, q.drain(out::add, 10), "empty");
        assertThrows(IllegalArgumentException.class, () -> q.drain(out::add, -1));
        assertNull(q.relaxedPoll());
        assertNull(q.relaxedPeek());
        assertTrue(q.relaxedOffer(7));
        assertEquals(7, q.relaxedPeek());
        assertEquals(7, q.relaxedPoll());
    }

    @Test
    void fillAndDrainCrossTheWrapPointAtEveryOffset() {
        MessageQueue<Integer> q = messageQueue(8);
        AtomicInteger next = new AtomicInteger();
        int expected = 0;
        for (int offset = 0; offset < 8; offset++) {
            for (int k = 1; k <= 8; k++) {
                assertEquals(k, q.fill(next::getAndIncrement, k), "fill " + k + " at offset " + offset);
                assertEquals(k, q.size());
                if (k == 8) {
                    assertFalse(q.offer(-1), "full at offset " + offset);
                    assertEquals(0, q.fill(next::getAndIncrement, 1), "fill when full");
                }
                List<Integer> out = new ArrayList<>();
                assertEquals(k, q.drain(out::add, 8), "drain " + k + " at offset " + offset);
                for (Integer e : out) {
                    assertEquals(expected++, e, "FIFO across the wrap");
                }
                assertTrue(q.isEmpty());
            }
            assertTrue(q.offer(expected));
            assertEquals(expected, q.poll());
            next.incrementAndGet();
            expected++;
        }
        assertEquals(0, q.drain(x -> { }, 8), "empty");
    }

    @Test
    void failingFillSupplierAcrossTheWrapPointIsSkippedByDrain() {
        for (int offset = 0; offset < 8; offset++) {
            MessageQueue<Integer> q = startingAt(offset);
            assertThrows(IllegalStateException.class, () -> q.fill(breakingAt(2), 5), "offset " + offset);
            if (fillLeavesFillers()) {
                assertTrue(q.size() >= 3, "fillers follow the two elements, offset " + offset);
            }
            List<Integer> out = new ArrayList<>();
            assertEquals(2, q.drain(out::add, 8), "offset " + offset);
            assertEquals(List.of(0, 1), out);
            assertNull(q.poll(), "the failed slots are skipped, not waited for");
            assertTrue(q.isEmpty());
            lapAfter(q, offset);
        }
    }

    /** A supplier of 0, 1, 2, ... that throws {@code IllegalStateException} instead of giving {@code k}. */
    private static Supplier<Integer> breakingAt(int k) {
        AtomicInteger n = new AtomicInteger();
        return () -> {
            if (n.get() == k) {
                throw new IllegalStateException("supplier broke");
            }
            return n.getAndIncrement();
        };
    }

    /** Every slot of the ring, fillers' slots included, takes an element again and gives it back. */
    private static void lapAfter(MessageQueue<Integer> q, int offset) {
        for (int i = 0; i < 8; i++) {
            assertTrue(q.offer(i), "lap after, offset " + offset);
        }
        for (int i = 0; i < 8; i++) {
            assertEquals(i, q.poll(), "lap after, offset " + offset);
        }
        assertNull(q.poll(), "lap after, offset " + offset);
    }

    /** An empty queue of capacity 8 whose next slot is ring slot {@code offset}. */
    private MessageQueue<Integer> startingAt(int offset) {
        MessageQueue<Integer> q = messageQueue(8);
        for (int i = 0; i < offset; i++) {
            assertTrue(q.offer(i));
            assertEquals(i, q.poll());
        }
        return q;
    }

    /**
     * Whether a {@code fill} whose supplier fails leaves fillers in the slots it claimed: the
     * multi-producer queues claim a batch before publishing into it; the SPSC queue claims nothing
     * ahead, so it has none (its override says so).
     */
    boolean fillLeavesFillers() {
        return true;
    }

    @Test
    void failingFillSupplierLosesNothingAndWedgesNothing() {
        MessageQueue<Integer> q = messageQueue(8);
        assertThrows(IllegalStateException.class, () -> q.fill(breakingAt(2), 5));
        assertEquals(0, q.poll());
        assertEquals(1, q.poll());
        assertNull(q.poll(), "the failed slot is skipped, not waited for");
        assertTrue(q.offer(5));
        assertEquals(5, q.poll());
    }

    @Test
    void pollSkipsFillersToTheElementBehindThemAtEveryOffset() {
        for (int offset = 0; offset < 8; offset++) {
            MessageQueue<Integer> q = startingAt(offset);
            assertThrows(IllegalStateException.class, () -> q.fill(breakingAt(1), 4), "offset " + offset);
            assertTrue(q.offer(100 + offset), "offset " + offset);
            // the size counts claimed slots: one element, the fillers of the slots the fill claimed
            // and could not fill (at least one; none in SPSC), then the offered element
            if (fillLeavesFillers()) {
                assertTrue(q.size() >= 3, "a filler lies between the two elements, offset " + offset);
            } else {
                assertEquals(2, q.size(), "offset " + offset);
            }
            assertEquals(0, q.poll(), "offset " + offset);
            assertEquals(100 + offset, q.poll(), "the fillers are skipped, offset " + offset);
            assertNull(q.poll(), "offset " + offset);
            assertTrue(q.isEmpty(), "offset " + offset);
            lapAfter(q, offset);
        }
    }

    @Test
    void aSupplierThatThrowsACheckedExceptionLosesNothingAndWedgesNothing() {
        MessageQueue<Integer> q = messageQueue(8);
        AtomicInteger n = new AtomicInteger();
        java.io.IOException checked = new java.io.IOException("supplier broke (checked)");
        Throwable thrown = assertThrows(Throwable.class, () -> q.fill(() -> {
            if (n.get() == 2) {
                throw Suppression.rethrow(checked);
            }
            return n.getAndIncrement();
        }, 5));
        assertSame(checked, thrown, "the supplier's own exception, as it threw it");
        // relaxed: a poll would wait for ever on a slot claimed and never published (the bug this finds)
        assertEquals(0, q.relaxedPoll());
        assertEquals(1, q.relaxedPoll());
        assertNull(q.relaxedPoll(), "the failed slots are skipped");
        for (int i = 0; i < 8; i++) {
            assertTrue(q.offer(10 + i), "the ring's every slot is free again: " + i);
        }
        for (int i = 0; i < 8; i++) {
            assertEquals(10 + i, q.poll());
        }
    }

    @Test
    void aConsumerThatThrowsACheckedExceptionLosesNothingAndWedgesNothing() {
        consumerThrowingAt3LosesNothing(new java.io.IOException("consumer broke at 3 (checked)"));
    }

    @Test
    void sizeIsAnEstimateWithinBoundsUnderConcurrency() throws Exception {
        Queue<Integer> q = create(64);
        CompletableFuture<Void> churn = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 200_000; i++) {
                if (!q.offer(i)) {
                    q.poll();
                }
            }
        }, pool);
        while (!churn.isDone()) {
            int s = q.size();
            assertTrue(s >= 0 && s <= 64, "size " + s);
        }
        churn.get();
    }

    @Test
    void everyElementArrivesExactlyOnceInPerProducerOrder() throws Exception {
        exactlyOnceInPerProducerOrder(false);
    }

    @Test
    void batchFillAndDrainDeliverEveryElementExactlyOnceInPerProducerOrder() throws Exception {
        assumeTrue(create(2) instanceof MessageQueue, "drain/fill are ours");
        exactlyOnceInPerProducerOrder(true);
    }

    @Test
    void aThrowingConsumerStopsTheDrainWithoutLosingWhatItDidNotClaim() {
        consumerThrowingAt3LosesNothing(new IllegalStateException("consumer broke at 3"));
    }

    /**
     * 40 elements; the consumer throws {@code failure} (thrown as it is, a checked one too) at the
     * fourth: the drain throws it, every element is handed over once (by that drain or the next) and
     * no slot stays claimed.
     */
    private void consumerThrowingAt3LosesNothing(Throwable failure) {
        MessageQueue<Integer> q = messageQueue(64);
        for (int i = 0; i < 40; i++) {
            q.offer(i);
        }
        List<Integer> seen = new ArrayList<>();
        Throwable thrown = assertThrows(Throwable.class, () -> q.drain(x -> {
            seen.add(x);
            if (x == 3) {
                throw Suppression.rethrow(failure);
            }
        }, 40));
        assertSame(failure, thrown, "the consumer's own exception, as it threw it");
        List<Integer> rest = new ArrayList<>();
        q.drain(rest::add);
        List<Integer> all = new ArrayList<>(seen);
        all.addAll(rest);
        assertEquals(40, all.size(), "every element delivered once: " + all);
        for (int i = 0; i < 40; i++) {
            assertEquals(i, all.get(i));
        }
        for (int i = 0; i < 64; i++) {
            assertTrue(q.offer(i), "no slot stays claimed: " + i);
        }
    }

    @Test
    void aConsumerThatThrowsOneConstantOnEveryElementLeavesTheQueueWorking() {
        MessageQueue<Integer> q = messageQueue(64);
        IllegalStateException constant = new IllegalStateException("consumer refuses (a constant)");
        List<Integer> seen = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 40; i++) {
                assertTrue(q.offer(round * 40 + i), "room for element " + i + " of round " + round);
            }
            while (!q.isEmpty()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> q.drain(x -> {
                    seen.add(x);
                    throw constant;
                }, 40));
                assertSame(constant, e, "the consumer's own exception, not one about suppressing it in itself");
            }
        }
        assertEquals(200, seen.size(), "every element handed over once: " + seen);
        for (int i = 0; i < 200; i++) {
            assertEquals(i, seen.get(i));
        }
        assertEquals(0, constant.getSuppressed().length, "never suppressed into itself");
        assertTrue(q.offer(7) && q.poll() == 7, "the ring still moves");
    }

    @Test
    void aDrainKeepsAFewOfTheConsumersLaterExceptionsNotAll() {
        MessageQueue<Integer> q = messageQueue(64);
        for (int i = 0; i < 40; i++) {
            q.offer(i);
        }
        int[] handed = {0};
        IllegalStateException first = assertThrows(IllegalStateException.class, () -> q.drain(x -> {
            handed[0]++;
            throw new IllegalStateException("refused " + x);
        }, 40));
        assertEquals("refused 0", first.getMessage());
        assertEquals(Math.min(4, handed[0] - 1), first.getSuppressed().length,
                "4 of the later ones at most (" + (handed[0] - 1) + " here; a queue whose drain stops at the first has none)");
    }

    @SuppressWarnings("unchecked")
    private void exactlyOnceInPerProducerOrder(boolean batched) throws Exception {
        int perProducer = STRESS_ELEMENTS / producers;
        Queue<Integer> q = create(1024);
        AtomicLongArray received = new AtomicLongArray(producers * perProducer);
        AtomicInteger orderViolations = new AtomicInteger();
        AtomicInteger total = new AtomicInteger();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int id = p;
            all.add(CompletableFuture.runAsync(() -> {
                if (batched) {
                    int[] next = {0};
                    while (next[0] < perProducer) {
                        int room = Math.min(32, perProducer - next[0]);
                        if (((MessageQueue<Integer>) q).fill(() -> id * perProducer + next[0]++, room) == 0) {
                            Thread.yield();
                        }
                    }
                    return;
                }
                for (int i = 0; i < perProducer; i++) {
                    Integer e = id * perProducer + i;
                    while (!q.offer(e)) {
                        Thread.yield();
                    }
                }
            }, pool));
        }
        for (int c = 0; c < consumers; c++) {
            all.add(CompletableFuture.runAsync(() -> {
                int[] last = new int[producers];
                java.util.Arrays.fill(last, -1);
                java.util.function.Consumer<Integer> take = e -> {
                    total.incrementAndGet();
                    received.incrementAndGet(e);
                    int producer = e / perProducer;
                    int seq = e % perProducer;
                    if (seq <= last[producer]) {
                        orderViolations.incrementAndGet();
                    }
                    last[producer] = seq;
                };
                while (batched && total.get() < producers * perProducer) {
                    if (((MessageQueue<Integer>) q).drain(take, 32) == 0) {
                        Thread.yield();
                    }
                }
                while (total.get() < producers * perProducer) {
                    Integer e = q.poll();
                    if (e == null) {
                        Thread.yield();
                        continue;
                    }
                    take.accept(e);
                }
            }, pool));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(5, TimeUnit.MINUTES);
        }
        for (int i = 0; i < received.length(); i++) {
            if (received.get(i) != 1) {
                throw new AssertionError("element " + i + " arrived " + received.get(i) + " times");
            }
        }
        assertEquals(0, orderViolations.get(), "per-producer FIFO");
        assertNull(q.poll());
    }
}

class SpscArrayQueueTest extends QueueContract {
    SpscArrayQueueTest() {
        super(SpscArrayQueue::new, 1, 1);
    }

    @Override
    boolean fillLeavesFillers() {
        return false;
    }

    @Test
    void capacityIsRoundedUpToAPowerOfTwoAndValidated() {
        assertEquals(8, new SpscArrayQueue<Integer>(5).capacity());
        assertEquals(2, new SpscArrayQueue<Integer>(2).capacity());
        assertThrows(IllegalArgumentException.class, () -> new SpscArrayQueue<Integer>(1));
        assertThrows(IllegalArgumentException.class, () -> new MpscArrayQueue<Integer>(0));
        assertThrows(IllegalArgumentException.class, () -> new MpmcArrayQueue<Integer>((1 << 30) + 1));
    }
}

class MpscArrayQueueTest extends QueueContract {
    MpscArrayQueueTest() {
        super(MpscArrayQueue::new, 4, 1);
    }
}

class MpmcArrayQueueTest extends QueueContract {
    MpmcArrayQueueTest() {
        super(MpmcArrayQueue::new, 4, 4);
    }
}

/** The control: the JDK's locked queue must pass the same contract. */
class ArrayBlockingQueueControlTest extends QueueContract {
    ArrayBlockingQueueControlTest() {
        super(ArrayBlockingQueue::new, 4, 4);
    }
}
