package dev.resilience.benchmarks;

import dev.resilience.pool.MpmcArrayQueue;
import dev.resilience.pool.MpscArrayQueue;
import dev.resilience.pool.SpscArrayQueue;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jctools.queues.MessagePassingQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the pool's safe array access costs on one thread: an SPSC offer and poll of one element
 * (as {@link QueueSingleThreadBenchmark#offerPoll()}) through ours ({@code SpscArrayQueue}: VarHandle
 * indices, plain array loads and stores with their bounds and store checks), the same code with
 * {@code Unsafe} array access ({@link UnsafeSpscQueue}, benchmark-only) and JCTools'
 * {@code SpscArrayQueue} ({@code Unsafe} throughout). If the second matches JCTools, what separates
 * ours from JCTools is the checks, not the algorithm. The {@code Mpsc} rows do the same for the
 * multi-producer queue ({@link UnsafeMpscQueue}), the {@code Mpmc} rows for the multi-consumer one
 * ({@link UnsafeMpmcQueue}). All hold 1,024. After measuring, the nine queues the trial created and
 * nine fresh ones are each checked ({@link #check}: one-by-one round trips past
 * the ring's wrap, then filled, overfilled and drained in order twice), so a benchmark-only copy
 * broken in a way those steps reach fails the trial with an exception naming it (after, not before:
 * with the check in set-up one run measured ours' MPSC 0.5 ns faster; {@link #primeInSetUp} tests
 * that, and benchmarks/RESULTS.md reports what it found).
 */
public class QueueSafetyTaxBenchmark extends AverageTimeBenchmark {

    private static final Integer ELEMENT = 42;

    /**
     * Whether the set-up also runs {@link #check} on the queues the trial measures, so that the JIT
     * has seen their refusal and empty paths before it compiles the measured loop: false by default
     * (what the recorded runs measured, except {@code runs/2026-12-04-mpsc-prime-*.json} and the
     * check-in-set-up run); true only to test whether that changes the figures. Since the MPMC rows
     * came, the set-up checks nine queues, not the six of those runs.
     */
    @Param({"false"})
    public boolean primeInSetUp;

    private SpscArrayQueue<Integer> ours;
    private UnsafeSpscQueue<Integer> unsafe;
    private MessagePassingQueue<Integer> jctools;
    private MpscArrayQueue<Integer> oursMpsc;
    private UnsafeMpscQueue<Integer> unsafeMpsc;
    private MessagePassingQueue<Integer> jctoolsMpsc;
    private MpmcArrayQueue<Integer> oursMpmc;
    private UnsafeMpmcQueue<Integer> unsafeMpmc;
    private MessagePassingQueue<Integer> jctoolsMpmc;

    @Setup(Level.Trial)
    public void create() {
        ours = new SpscArrayQueue<>(1024);
        unsafe = new UnsafeSpscQueue<>(1024);
        jctools = new org.jctools.queues.SpscArrayQueue<>(1024);
        oursMpsc = new MpscArrayQueue<>(1024);
        unsafeMpsc = new UnsafeMpscQueue<>(1024);
        jctoolsMpsc = new org.jctools.queues.MpscArrayQueue<>(1024);
        oursMpmc = new MpmcArrayQueue<>(1024);
        unsafeMpmc = new UnsafeMpmcQueue<>(1024);
        jctoolsMpmc = new org.jctools.queues.MpmcArrayQueue<>(1024);
        if (primeInSetUp) {
            checkAll("measured ");
        }
    }

    /** Checks the queues the trial used, and fresh queues of every kind, once the trial has run. */
    @TearDown(Level.Trial)
    public void checkQueues() {
        checkAll("measured ");
        QueueSafetyTaxBenchmark fresh = new QueueSafetyTaxBenchmark();
        fresh.create();
        fresh.checkAll("");
    }

    /** {@link #check} on each of this state's nine queues, each named with {@code prefix}. */
    private void checkAll(String prefix) {
        check(prefix + "ours SPSC", ours::offer, ours::poll);
        check(prefix + "ours SPSC with Unsafe", unsafe::offer, unsafe::poll);
        check(prefix + "JCTools SPSC", jctools::offer, jctools::poll);
        check(prefix + "ours MPSC", oursMpsc::offer, oursMpsc::poll);
        check(prefix + "ours MPSC with Unsafe", unsafeMpsc::offer, unsafeMpsc::poll);
        check(prefix + "JCTools MPSC", jctoolsMpsc::offer, jctoolsMpsc::poll);
        check(prefix + "ours MPMC", oursMpmc::offer, oursMpmc::poll);
        check(prefix + "ours MPMC with Unsafe", unsafeMpmc::offer, unsafeMpmc::poll);
        check(prefix + "JCTools MPMC", jctoolsMpmc::offer, jctoolsMpmc::poll);
    }

    /**
     * Checks an empty queue of capacity 1,024: a poll gives null; 1,536 round trips (offer one, poll
     * it back), which cross the ring's wrap and reuse its slots; then twice: 1,024 offers, one more
     * (which must be refused), 1,024 polls in order and one more (which must give null: a poll that
     * left its slot full would give an element of the lap before).
     *
     * @throws IllegalStateException naming the queue if any step goes otherwise
     */
    private static void check(String name, Predicate<Integer> offer, Supplier<Integer> poll) {
        if (poll.get() != null) {
            throw new IllegalStateException(name + " gave an element before any was offered");
        }
        for (int i = 0; i < 1536; i++) {
            Integer e = i;
            if (!offer.test(e) || poll.get() != e) {
                throw new IllegalStateException(name + " failed round trip " + i);
            }
        }
        fillAndDrain(name, offer, poll);
        fillAndDrain(name, offer, poll);
    }

    private static void fillAndDrain(String name, Predicate<Integer> offer, Supplier<Integer> poll) {
        for (int i = 0; i < 1024; i++) {
            if (!offer.test(i)) {
                throw new IllegalStateException(name + " refused element " + i + " of 1,024");
            }
        }
        if (offer.test(-1)) {
            throw new IllegalStateException(name + " took a 1,025th element");
        }
        for (int i = 0; i < 1024; i++) {
            Integer e = poll.get();
            if (!Integer.valueOf(i).equals(e)) {
                throw new IllegalStateException(name + " gave " + e + " where " + i + " was due");
            }
        }
        if (poll.get() != null) {
            throw new IllegalStateException(name + " gave an element when empty");
        }
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

    /** Ours, MPMC: one offer and one poll of the same element. */
    @Benchmark
    public Integer oursMpmc() {
        oursMpmc.offer(ELEMENT);
        return oursMpmc.poll();
    }

    /** Ours, MPMC, with Unsafe access to the ring and the sequences. */
    @Benchmark
    public Integer oursUnsafeMpmc() {
        unsafeMpmc.offer(ELEMENT);
        return unsafeMpmc.poll();
    }

    /** JCTools' MpmcArrayQueue through its interface. */
    @Benchmark
    public Integer jctoolsMpmc() {
        jctoolsMpmc.offer(ELEMENT);
        return jctoolsMpmc.poll();
    }
}
