package dev.resilience.benchmarks;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import io.opentelemetry.context.ContextKey;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Our context against gRPC's {@code io.grpc.Context} and OpenTelemetry's context, same run, same
 * operations: derive a child, make it current, read, restore (and, with a deadline, cancel).
 *
 * <p>gRPC gets the scheduler it uses in production: a single-thread
 * {@link ScheduledThreadPoolExecutor} with remove-on-cancel, as gRPC's own timer service sets it.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class ContextBenchmark {

    private static final Context.Key<String> OURS = Context.Key.named("k");
    private static final io.grpc.Context.Key<String> GRPC = io.grpc.Context.key("k");
    private static final ContextKey<String> OTEL = ContextKey.named("k");
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

    private final ScheduledThreadPoolExecutor grpcTimer = new ScheduledThreadPoolExecutor(1);

    {
        grpcTimer.setRemoveOnCancelPolicy(true);
    }

    @TearDown
    public void shutdown() {
        grpcTimer.shutdownNow();
    }

    // ------------------------------------------------------------ withValue + attach + read + close

    @Benchmark
    public String withValueAttachRead_ours() {
        Context c = Context.current().withValue(OURS, "v");
        try (Scope s = c.attach()) {
            return OURS.get();
        }
    }

    @Benchmark
    public String withValueAttachRead_grpc() {
        io.grpc.Context c = io.grpc.Context.current().withValue(GRPC, "v");
        io.grpc.Context previous = c.attach();
        try {
            return GRPC.get();
        } finally {
            c.detach(previous);
        }
    }

    @Benchmark
    public String withValueAttachRead_otel() {
        io.opentelemetry.context.Context c = io.opentelemetry.context.Context.current().with(OTEL, "v");
        try (io.opentelemetry.context.Scope s = c.makeCurrent()) {
            return io.opentelemetry.context.Context.current().get(OTEL);
        }
    }

    // ------------------------------------------------------------ withTimeout + attach + close + cancel

    @Benchmark
    public Object withTimeoutAttachCancel_ours() {
        try (CancelHandle h = Context.current().withTimeout(ONE_SECOND); Scope s = h.attach()) {
            return Context.current();
        }
    }

    @Benchmark
    public Object withTimeoutAttachCancel_grpc() {
        io.grpc.Context.CancellableContext c =
                io.grpc.Context.current().withDeadlineAfter(1, TimeUnit.SECONDS, grpcTimer);
        io.grpc.Context previous = c.attach();
        try {
            return io.grpc.Context.current();
        } finally {
            c.detach(previous);
            c.cancel(null);
        }
    }

    /** The same, two threads at once: gRPC's threads contend on the timer queue's lock. */
    @Benchmark
    @Threads(2)
    public Object withTimeoutAttachCancel2Threads_ours() {
        return withTimeoutAttachCancel_ours();
    }

    @Benchmark
    @Threads(2)
    public Object withTimeoutAttachCancel2Threads_grpc() {
        return withTimeoutAttachCancel_grpc();
    }

    /** The floor under any deadline: reading the clock once ({@code Ticker.system()}). */
    @Benchmark
    public long clockRead_baseline() {
        return System.nanoTime();
    }

    // ------------------------------------------------------------ checking a deadline on the hot path

    @Benchmark
    public boolean isDoneWithDeadline_ours(DeadlineState state) {
        return state.ours.context().isDone();
    }

    @Benchmark
    public boolean isDoneWithDeadline_grpc(DeadlineState state) {
        return state.grpc.isCancelled();
    }

    // ------------------------------------------------------------ a request: create, then k checks

    /** How many times a request checks its context (a loop's polls, each layer's check). */
    @State(org.openjdk.jmh.annotations.Scope.Benchmark)
    public static class Checks {
        @org.openjdk.jmh.annotations.Param({"1", "5", "10", "100"})
        public int checks;
    }

    /**
     * What a request pays in total: a context with a 1 s deadline made current, {@code checks}
     * calls of {@code isDone()} (each reads the clock: ours arms no timer), restored and cancelled.
     */
    @Benchmark
    public boolean requestWithChecks_ours(Checks k) {
        boolean done = false;
        try (CancelHandle h = Context.current().withTimeout(ONE_SECOND); Scope s = h.attach()) {
            Context c = Context.current();
            for (int i = 0; i < k.checks; i++) {
                done |= c.isDone();
            }
        }
        return done;
    }

    /** gRPC's: it arms a timer per deadline, and each check reads a flag. */
    @Benchmark
    public boolean requestWithChecks_grpc(Checks k) {
        boolean done = false;
        io.grpc.Context.CancellableContext c =
                io.grpc.Context.current().withDeadlineAfter(1, TimeUnit.SECONDS, grpcTimer);
        io.grpc.Context previous = c.attach();
        try {
            io.grpc.Context current = io.grpc.Context.current();
            for (int i = 0; i < k.checks; i++) {
                done |= current.isCancelled();
            }
        } finally {
            c.detach(previous);
            c.cancel(null);
        }
        return done;
    }

    /** A long-lived context with a deadline an hour away. */
    @State(org.openjdk.jmh.annotations.Scope.Benchmark)
    public static class DeadlineState {
        final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
        final CancelHandle ours = Context.background().withTimeout(Duration.ofHours(1));
        final io.grpc.Context.CancellableContext grpc =
                io.grpc.Context.ROOT.withDeadlineAfter(1, TimeUnit.HOURS, timer);

        @TearDown
        public void shutdown() {
            ours.cancel();
            grpc.cancel(null);
            timer.shutdownNow();
        }
    }
}
