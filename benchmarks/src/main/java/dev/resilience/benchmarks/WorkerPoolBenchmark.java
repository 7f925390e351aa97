package dev.resilience.benchmarks;

import dev.resilience.pool.WorkerPool;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of empty tasks: one submitting thread hands {@value #BATCH} tasks to the pool, then
 * waits until all have run. Both executors have the same number of workers, a backlog of 1024 and
 * caller-runs when it is full (so neither throws).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(3)
@Threads(1)
@State(Scope.Benchmark)
public class WorkerPoolBenchmark {

    static final int BATCH = 1000;

    @Param({"ours", "tpe"})
    public String impl;

    @Param({"1", "2"})
    public int workers;

    private ExecutorService executor;
    private final AtomicLong done = new AtomicLong();
    private final Runnable task = done::incrementAndGet;
    private long submitted;

    @Setup(Level.Trial)
    public void create() {
        if (impl.equals("ours")) {
            executor = WorkerPool.builder().threads(workers).queueCapacity(1024)
                    .rejection(WorkerPool.Rejection.CALLER_RUNS).build();
        } else {
            ThreadPoolExecutor tpe = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS,
                    new ArrayBlockingQueue<>(1024), new ThreadPoolExecutor.CallerRunsPolicy());
            tpe.prestartAllCoreThreads();
            executor = tpe;
        }
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
        executor.shutdown();
        executor.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void emptyTasks() {
        for (int i = 0; i < BATCH; i++) {
            executor.execute(task);
        }
        submitted += BATCH;
        while (done.get() < submitted) {
            Thread.onSpinWait();
        }
    }
}
