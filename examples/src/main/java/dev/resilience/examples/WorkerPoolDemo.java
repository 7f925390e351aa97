package dev.resilience.examples;

import dev.resilience.context.Context;
import dev.resilience.context.Ticker;
import dev.resilience.pool.BlockingMessageQueue;
import dev.resilience.pool.MpscArrayQueue;
import dev.resilience.pool.SpscArrayQueue;
import dev.resilience.pool.WorkerPool;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A producer/consumer pipeline with back-pressure: a fast producer puts orders into a small
 * blocking queue (it waits when the queue is full instead of piling work up), a dispatcher hands
 * them to a worker pool that waits for room in its own bounded backlog, three workers "process"
 * each order for 2 ms and publish the result into an MPSC queue, and a collector drains results
 * 32 at a time.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.WorkerPoolDemo}
 */
public final class WorkerPoolDemo {

    static final int ORDERS = 300;
    static final int QUEUE = 8;

    private WorkerPoolDemo() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** What happened: each order's processing count, the deepest the order queue got, producer waits. */
    record Outcome(AtomicIntegerArray processed, int collected, int maxDepth, int producerWaits) {
    }

    static Outcome run(PrintStream out) throws Exception {
        BlockingMessageQueue<Integer> orders = new BlockingMessageQueue<>(new SpscArrayQueue<>(QUEUE));
        MpscArrayQueue<Integer> results = new MpscArrayQueue<>(1024);
        WorkerPool workers = WorkerPool.builder().name("orders").threads(3).queueCapacity(4)
                .rejection(WorkerPool.Rejection.WAIT).build();
        AtomicIntegerArray processed = new AtomicIntegerArray(ORDERS);
        AtomicInteger maxDepth = new AtomicInteger();
        AtomicInteger producerWaits = new AtomicInteger();

        Thread producer = new Thread(() -> {
            try {
                for (int i = 0; i < ORDERS; i++) {
                    if (!orders.offer(i)) {       // full: count it, then wait for room
                        producerWaits.incrementAndGet();
                        orders.put(i);
                    }
                    maxDepth.accumulateAndGet(orders.size(), Math::max);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "producer");
        Thread dispatcher = new Thread(() -> {
            try {
                for (int i = 0; i < ORDERS; i++) {
                    int order = orders.take();
                    workers.execute(() -> {       // WAIT: blocks while the pool's backlog is full
                        work(Duration.ofMillis(2));
                        processed.incrementAndGet(order);
                        while (!results.offer(order)) {
                            Thread.onSpinWait();
                        }
                    });
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "dispatcher");
        producer.start();
        dispatcher.start();

        int collected = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int[] batch = {0};
        while (collected < ORDERS && System.nanoTime() < deadline) {
            batch[0] = 0;
            collected += results.drain(r -> batch[0]++, 32);
            if (batch[0] == 0) {
                work(Duration.ofMillis(1));
            }
        }
        producer.join();
        dispatcher.join();
        workers.shutdown();
        workers.awaitTermination(Duration.ofSeconds(10));
        out.println("[summary] orders " + ORDERS + ", collected " + collected + ", order queue never deeper than "
                + maxDepth.get() + " (capacity " + QUEUE + "), producer waited " + producerWaits.get()
                + " times, workers completed " + workers.completed());
        return new Outcome(processed, collected, maxDepth.get(), producerWaits.get());
    }

    /** Simulated work: waits on the system clock. */
    static void work(Duration d) {
        try {
            Context.background().sleepUntil(Ticker.system(), System.nanoTime() + d.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
