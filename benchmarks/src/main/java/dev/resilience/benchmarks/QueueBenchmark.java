package dev.resilience.benchmarks;

import dev.resilience.pool.MessageQueue;
import dev.resilience.pool.MpmcArrayQueue;
import dev.resilience.pool.MpscArrayQueue;
import dev.resilience.pool.SpscArrayQueue;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jctools.queues.MessagePassingQueue;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One producer thread and one consumer thread through a queue of 1024 (JMH groups). The figures to
 * read are the auxiliary counters {@code offersMade} and {@code pollsMade}: successful operations
 * per microsecond on each side (failed offers and empty polls are counted apart). {@code batch}
 * moves 32 at a time with {@code fill}/{@code drain}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(3)
public class QueueBenchmark {

    private static final Integer ELEMENT = 42;

    /** The queue under test. */
    @State(Scope.Group)
    public static class QueueState {
        @Param({"ours-spsc", "jctools-spsc", "ours-mpsc", "jctools-mpsc", "ours-mpmc", "jctools-mpmc", "abq"})
        public String impl;

        Queue<Integer> queue;

        @Setup(Level.Trial)
        public void create() {
            switch (impl) {
                case "ours-spsc":
                    queue = new SpscArrayQueue<>(1024);
                    break;
                case "jctools-spsc":
                    queue = new org.jctools.queues.SpscArrayQueue<>(1024);
                    break;
                case "ours-mpsc":
                    queue = new MpscArrayQueue<>(1024);
                    break;
                case "jctools-mpsc":
                    queue = new org.jctools.queues.MpscArrayQueue<>(1024);
                    break;
                case "ours-mpmc":
                    queue = new MpmcArrayQueue<>(1024);
                    break;
                case "jctools-mpmc":
                    queue = new org.jctools.queues.MpmcArrayQueue<>(1024);
                    break;
                default:
                    queue = new ArrayBlockingQueue<>(1024);
            }
        }
    }

    /** Producer-side counters. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class OfferCounters {
        public long offersMade;
        public long offersFailed;

        @Setup(Level.Iteration)
        public void reset() {
            offersMade = 0;
            offersFailed = 0;
        }
    }

    /** Consumer-side counters. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class PollCounters {
        public long pollsMade;
        public long pollsFailed;

        @Setup(Level.Iteration)
        public void reset() {
            pollsMade = 0;
            pollsFailed = 0;
        }
    }

    @Benchmark
    @Group("single")
    @GroupThreads(1)
    public void offer(QueueState s, OfferCounters c) {
        if (s.queue.offer(ELEMENT)) {
            c.offersMade++;
        } else {
            c.offersFailed++;
        }
    }

    @Benchmark
    @Group("single")
    @GroupThreads(1)
    public void poll(QueueState s, PollCounters c) {
        if (s.queue.poll() != null) {
            c.pollsMade++;
        } else {
            c.pollsFailed++;
        }
    }

    @Benchmark
    @Group("batch")
    @GroupThreads(1)
    @SuppressWarnings("unchecked")
    public void fill(QueueState s, OfferCounters c) {
        int n;
        if (s.queue instanceof MessageQueue) {
            n = ((MessageQueue<Integer>) s.queue).fill(() -> ELEMENT, 32);
        } else if (s.queue instanceof MessagePassingQueue) {
            n = ((MessagePassingQueue<Integer>) s.queue).fill(() -> ELEMENT, 32);
        } else {
            n = 0;
            while (n < 32 && s.queue.offer(ELEMENT)) {
                n++;
            }
        }
        c.offersMade += n;
        if (n == 0) {
            c.offersFailed++;
        }
    }

    @Benchmark
    @Group("batch")
    @GroupThreads(1)
    @SuppressWarnings("unchecked")
    public void drain(QueueState s, PollCounters c) {
        int n;
        if (s.queue instanceof MessageQueue) {
            n = ((MessageQueue<Integer>) s.queue).drain(e -> { }, 32);
        } else if (s.queue instanceof MessagePassingQueue) {
            n = ((MessagePassingQueue<Integer>) s.queue).drain(e -> { }, 32);
        } else {
            n = 0;
            while (n < 32 && s.queue.poll() != null) {
                n++;
            }
        }
        c.pollsMade += n;
        if (n == 0) {
            c.pollsFailed++;
        }
    }
}
