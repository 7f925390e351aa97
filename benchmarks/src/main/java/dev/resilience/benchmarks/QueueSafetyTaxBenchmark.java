package dev.resilience.benchmarks;

import dev.resilience.pool.MpscArrayQueue;
import dev.resilience.pool.SpscArrayQueue;
import org.jctools.queues.MessagePassingQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;

/**
 * What the pool's safe array access costs on one thread: an SPSC offer and poll of one element
 * (as {@link QueueSingleThreadBenchmark#offerPoll()}) through ours ({@code SpscArrayQueue}: VarHandle
 * indices, plain array loads and stores with their bounds and store checks), the same code with
 * {@code Unsafe} array access ({@link UnsafeSpscQueue}, benchmark-only) and JCTools'
 * {@code SpscArrayQueue} ({@code Unsafe} throughout). If the second matches JCTools, what separates
 * ours from JCTools is the checks, not the algorithm. The {@code Mpsc} rows do the same for the
 * multi-producer queue ({@link UnsafeMpscQueue}). All hold 1,024.
 */
public class QueueSafetyTaxBenchmark extends AverageTimeBenchmark {

    private static final Integer ELEMENT = 42;

    private SpscArrayQueue<Integer> ours;
    private UnsafeSpscQueue<Integer> unsafe;
    private MessagePassingQueue<Integer> jctools;
    private MpscArrayQueue<Integer> oursMpsc;
    private UnsafeMpscQueue<Integer> unsafeMpsc;
    private MessagePassingQueue<Integer> jctoolsMpsc;

    @Setup(Level.Trial)
    public void create() {
        ours = new SpscArrayQueue<>(1024);
        unsafe = new UnsafeSpscQueue<>(1024);
        jctools = new org.jctools.queues.SpscArrayQueue<>(1024);
        oursMpsc = new MpscArrayQueue<>(1024);
        unsafeMpsc = new UnsafeMpscQueue<>(1024);
        jctoolsMpsc = new org.jctools.queues.MpscArrayQueue<>(1024);
    }

    /** Ours: one offer and one poll of the same element. */
    @Benchmark
    public Integer oursSpsc() {
        ours.offer(ELEMENT);
        return ours.poll();
    }

    /** Ours with Unsafe array access. */
    @Benchmark
    public Integer oursUnsafeSpsc() {
        unsafe.offer(ELEMENT);
        return unsafe.poll();
    }

    /** JCTools' SpscArrayQueue through its interface, as {@link QueueSingleThreadBenchmark} calls it. */
    @Benchmark
    public Integer jctoolsSpsc() {
        jctools.offer(ELEMENT);
        return jctools.poll();
    }

    /** Ours, MPSC: one offer and one poll of the same element. */
    @Benchmark
    public Integer oursMpsc() {
        oursMpsc.offer(ELEMENT);
        return oursMpsc.poll();
    }

    /** Ours, MPSC, with Unsafe array access. */
    @Benchmark
    public Integer oursUnsafeMpsc() {
        unsafeMpsc.offer(ELEMENT);
        return unsafeMpsc.poll();
    }

    /** JCTools' MpscArrayQueue through its interface. */
    @Benchmark
    public Integer jctoolsMpsc() {
        jctoolsMpsc.offer(ELEMENT);
        return jctoolsMpsc.poll();
    }
}
