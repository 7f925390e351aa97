package dev.resilience.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jetbrains.lincheck.Lincheck;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of the three array queues. SPSC and MPSC: every interleaving of offer,
 * poll and peek must be linearizable against the same queue run sequentially, with each queue's rule
 * for who may call what at once (one producer and one consumer for SPSC, one consumer for MPSC).
 * MPMC's poll and peek return null while the next slot is claimed but not yet published (Vyukov's
 * queue, documented), so it is not linearizable by design; for it, every interleaving must lose and
 * duplicate nothing. A capacity of 2 makes the scenarios fill the ring and wrap it.
 */
class LincheckQueueTest {

    /**
     * Scenarios per test: 15 in {@code mvn verify} (its 10 minutes on 2 cores); with
     * {@code -Dlincheck.invocations=5000}, as the other model checks take for a deeper run, 150.
     */
    private static final int ITERATIONS = Math.max(1, Integer.getInteger("lincheck.invocations", 500) * 3 / 100);

    private static ModelCheckingOptions options(int threads) {
        return new ModelCheckingOptions().iterations(ITERATIONS).invocationsPerIteration(500).threads(threads)
                .actorsPerThread(3);
    }

    @Test
    void spscIsLinearizable() {
        options(2).check(Spsc.class);
    }

    @Test
    void mpscIsLinearizable() {
        options(3).check(Mpsc.class);
    }

    @Test
    void mpmcLosesAndDuplicatesNothing() {
        Lincheck.runConcurrentTest(1_000, () -> {
            MpmcArrayQueue<Integer> q = new MpmcArrayQueue<>(2);
            List<Integer> offered = new CopyOnWriteArrayList<>();
            List<Integer> taken = new CopyOnWriteArrayList<>();
            Thread[] threads = {
                new Thread(() -> offerTwo(q, 10, offered)),
                new Thread(() -> offerTwo(q, 20, offered)),
                new Thread(() -> pollTwo(q, taken)),
                new Thread(() -> pollTwo(q, taken)),
            };
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            for (Integer e; (e = q.poll()) != null;) {
                taken.add(e);
            }
            List<Integer> expected = new ArrayList<>(offered);
            List<Integer> actual = new ArrayList<>(taken);
            Collections.sort(expected);
            Collections.sort(actual);
            assertEquals(expected, actual, "every element offered is taken once");
        });
    }

    private static void offerTwo(MpmcArrayQueue<Integer> q, int first, List<Integer> offered) {
        for (int e = first; e < first + 2; e++) {
            if (q.offer(e)) {
                offered.add(e);
            }
        }
    }

    private static void pollTwo(MpmcArrayQueue<Integer> q, List<Integer> taken) {
        for (int i = 0; i < 2; i++) {
            Integer e = q.poll();
            if (e != null) {
                taken.add(e);
            }
        }
    }

    /** One producer, one consumer. */
    public static class Spsc {
        private final SpscArrayQueue<Integer> q = new SpscArrayQueue<>(2);

        @Operation(nonParallelGroup = "producer")
        public boolean offer(int e) {
            return q.offer(e);
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer poll() {
            return q.poll();
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer peek() {
            return q.peek();
        }
    }

    /** Any producers, one consumer. */
    public static class Mpsc {
        private final MpscArrayQueue<Integer> q = new MpscArrayQueue<>(2);

        @Operation
        public boolean offer(int e) {
            return q.offer(e);
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer poll() {
            return q.poll();
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer peek() {
            return q.peek();
        }
    }
}
