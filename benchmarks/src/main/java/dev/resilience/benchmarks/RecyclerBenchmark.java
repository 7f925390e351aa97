package dev.resilience.benchmarks;

import dev.resilience.pool.Recycler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code Recycler.get} and {@code release} on the same thread (the per-thread fast path), with a
 * reset hook, beside Netty's {@code io.netty.util.Recycler} doing the same (the object resets its
 * length before it is recycled), and allocating a fresh 4 KiB buffer each time for scale.
 */
public class RecyclerBenchmark extends AverageTimeBenchmark {

    /** A scratch buffer. */
    public static final class Buffer {
        final byte[] bytes = new byte[4096];
        int length;
    }

    /** Netty's recycled objects keep their handle. */
    public static final class NettyBuffer {
        final byte[] bytes = new byte[4096];
        int length;
        final io.netty.util.Recycler.Handle<NettyBuffer> handle;

        NettyBuffer(io.netty.util.Recycler.Handle<NettyBuffer> handle) {
            this.handle = handle;
        }

        void recycle() {
            length = 0;
            handle.recycle(this);
        }
    }

    private final Recycler<Buffer> recycler = Recycler.builder(Buffer::new).reset(b -> b.length = 0).build();
    private final io.netty.util.Recycler<NettyBuffer> netty = new io.netty.util.Recycler<>() {
        @Override
        protected NettyBuffer newObject(Handle<NettyBuffer> handle) {
            return new NettyBuffer(handle);
        }
    };

    /** The figure: get and release, nothing else (the reset hook runs). */
    @Benchmark
    public boolean getAndRelease_ours() {
        return recycler.release(recycler.get());
    }

    @Benchmark
    public boolean getAndRelease_netty() {
        NettyBuffer b = netty.get();
        b.recycle();
        return b.length == 0;
    }

    /** With a little use of the buffer in between, as real code does. */
    @Benchmark
    public void getUseAndRelease_ours(Blackhole bh) {
        Buffer b = recycler.get();
        b.length = 1;
        bh.consume(b.bytes);
        recycler.release(b);
    }

    @Benchmark
    public void getUseAndRelease_netty(Blackhole bh) {
        NettyBuffer b = netty.get();
        b.length = 1;
        bh.consume(b.bytes);
        b.recycle();
    }

    @Benchmark
    public void allocateFresh(Blackhole bh) {
        Buffer b = new Buffer();
        b.length = 1;
        bh.consume(b.bytes);
    }
}
