package dev.resilience.benchmarks;

import dev.resilience.pool.Recycler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code Recycler.get} and {@code release} on the same thread (the per-thread fast path), with a
 * reset hook, next to allocating a fresh 4 KiB buffer each time for scale.
 */
public class RecyclerBenchmark extends AverageTimeBenchmark {

    /** A scratch buffer. */
    public static final class Buffer {
        final byte[] bytes = new byte[4096];
        int length;
    }

    private final Recycler<Buffer> recycler = Recycler.builder(Buffer::new).reset(b -> b.length = 0).build();

    /** The figure: get and release, nothing else (the reset hook runs). */
    @Benchmark
    public boolean getAndRelease() {
        return recycler.release(recycler.get());
    }

    /** With a little use of the buffer in between, as real code does. */
    @Benchmark
    public void getUseAndRelease(Blackhole bh) {
        Buffer b = recycler.get();
        b.length = 1;
        bh.consume(b.bytes);
        recycler.release(b);
    }

    @Benchmark
    public void allocateFresh(Blackhole bh) {
        Buffer b = new Buffer();
        b.length = 1;
        bh.consume(b.bytes);
    }
}
