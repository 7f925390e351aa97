package dev.resilience.benchmarks;

import dev.resilience.pool.MessageQueue;
import dev.resilience.pool.MpmcArrayQueue;
import dev.resilience.pool.MpscArrayQueue;
import dev.resilience.pool.SpscArrayQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jctools.queues.MessagePassingQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The queues' operations on one thread, which a 2-core machine can measure without a second core
 * deciding the result: {@code offerPoll} offers one element and polls it back (the queue stays
 * almost empty); {@code fillDrain} fills 32 with {@code fill} and drains them with {@code drain}.
 * Ours and JCTools' same-named queues do the same operations through their own batch methods; both
 * queues hold 1,024.
 */
public class QueueSingleThreadBenchmark extends AverageTimeBenchmark {

    private static final Integer ELEMENT = 42;
    private static final Supplier<Integer> SUPPLY = () -> ELEMENT;
    private static final MessagePassingQueue.Supplier<Integer> JCTOOLS_SUPPLY = () -> ELEMENT;

    @Param({"ours-spsc", "jctools-spsc", "ours-mpsc", "jctools-mpsc", "ours-mpmc", "jctools-mpmc"})
    public String impl;

    /**
     * How many {@code long}s to allocate (and keep) just before the queue, so that the queue and its
     * array start that many 8-byte words later in the heap: 0 by default; other values test whether
     * where the queue lands decides a fork's speed.
     */
    @Param({"0"})
    public int shift;

    /** Kept so that the allocation before the queue is not dropped. */
    long[] before;

    private MessageQueue<Integer> ours;
    private MessagePassingQueue<Integer> jctools;
    private Consumer<Integer> sink;
    private MessagePassingQueue.Consumer<Integer> jctoolsSink;

    @Setup(Level.Trial)
    public void create(Blackhole bh) {
        sink = bh::consume;
        jctoolsSink = bh::consume;
        before = new long[shift];
        switch (impl) {
            case "ours-spsc":
                ours = new SpscArrayQueue<>(1024);
                break;
            case "jctools-spsc":
                jctools = new org.jctools.queues.SpscArrayQueue<>(1024);
                break;
            case "ours-mpsc":
                ours = new MpscArrayQueue<>(1024);
                break;
            case "jctools-mpsc":
                jctools = new org.jctools.queues.MpscArrayQueue<>(1024);
                break;
            case "ours-mpmc":
                ours = new MpmcArrayQueue<>(1024);
                break;
            default:
                jctools = new org.jctools.queues.MpmcArrayQueue<>(1024);
        }
    }

    /** One offer and one poll of the same element. */
    @Benchmark
    public Integer offerPoll() {
        if (ours != null) {
            ours.offer(ELEMENT);
            return ours.poll();
        }
        jctools.offer(ELEMENT);
        return jctools.poll();
    }

    /** 32 in with {@code fill}, 32 out with {@code drain}: the batch's cost (divide by 32 per element). */
    @Benchmark
    public int fillDrain() {
        if (ours != null) {
            ours.fill(SUPPLY, 32);
            return ours.drain(sink, 32);
        }
        jctools.fill(JCTOOLS_SUPPLY, 32);
        return jctools.drain(jctoolsSink, 32);
    }
}
