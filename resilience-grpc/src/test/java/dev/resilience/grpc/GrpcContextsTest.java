package dev.resilience.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import io.grpc.Contexts;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bridge between our context and {@code io.grpc.Context}, both ways, without leaks. */
class GrpcContextsTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** What gRPC users pass to withDeadline: a scheduler of their own. */
    private static ScheduledExecutorService scheduler;

    @BeforeAll
    static void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "grpc-deadlines");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stop() {
        scheduler.shutdownNow();
    }

    // ---------------------------------------------------------------- ours -> gRPC

    @Test
    void toGrpcCarriesOurDeadline() {
        try (CancelHandle ours = Context.background().withTimeout(Duration.ofSeconds(2))) {
            io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT);
            long remaining = grpc.getDeadline().timeRemaining(TimeUnit.NANOSECONDS);
            assertTrue(remaining > SECOND && remaining <= 2 * SECOND, "gRPC's remaining: " + remaining);
            assertFalse(grpc.isCancelled());
            grpc.cancel(null);
        }
    }

    @Test
    void toGrpcKeepsAnEarlierDeadlineOfTheGrpcParent() {
        io.grpc.Context.CancellableContext parent = io.grpc.Context.ROOT.withDeadlineAfter(1, TimeUnit.SECONDS, scheduler);
        try (CancelHandle ours = Context.background().withTimeout(Duration.ofSeconds(30))) {
            io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), parent);
            assertSame(parent.getDeadline(), grpc.getDeadline());
            grpc.cancel(null);
        } finally {
            parent.cancel(null);
        }
    }

    @Test
    void cancellingOursCancelsGrpcsWithOurException() {
        CancelHandle ours = Context.background().withCancel();
        io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT);
        IllegalStateException why = new IllegalStateException("user left");
        ours.cancel(why);
        assertTrue(grpc.isCancelled());
        assertInstanceOf(ContextCancelledException.class, grpc.cancellationCause());
        assertSame(why, grpc.cancellationCause().getCause());
        Status status = Contexts.statusFromCancelled(grpc);
        assertEquals(Status.Code.CANCELLED, status.getCode());
    }

    @Test
    void ourDeadlinePassingCancelsGrpcsAsATimeout() {
        ManualTicker ticker = new ManualTicker();
        CancelHandle ours = Context.background().withTimeout(Duration.ofSeconds(1), ticker);
        io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT);
        assertFalse(grpc.isCancelled());
        ticker.advance(Duration.ofSeconds(1)); // our deadline passes on our clock
        assertTrue(grpc.isCancelled());
        assertInstanceOf(TimeoutException.class, grpc.cancellationCause());
        assertInstanceOf(DeadlineExceededException.class, grpc.cancellationCause().getCause());
        assertEquals(Status.Code.DEADLINE_EXCEEDED, Contexts.statusFromCancelled(grpc).getCode());
        grpc.cancel(null);
    }

    @Test
    void grpcsOwnDeadlineFiresOnTheSharedTimerWhenOurClockIsNotRealTime() throws Exception {
        ManualTicker frozen = new ManualTicker(); // our deadline never passes on it
        CancelHandle ours = Context.background().withTimeout(Duration.ofMillis(50), frozen);
        io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT);
        java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
        grpc.addListener(c -> cancelled.countDown(), Runnable::run);
        assertTrue(cancelled.await(5, TimeUnit.SECONDS), "gRPC's 50 ms deadline fired in real time");
        assertInstanceOf(TimeoutException.class, grpc.cancellationCause());
        assertFalse(ours.context().isDone(), "gRPC's end does not reach ours");
        ours.cancel();
    }

    @Test
    void toGrpcOfADoneContextIsCancelledAtOnce() {
        CancelHandle ours = Context.background().withTimeout(Duration.ZERO);
        io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT);
        assertTrue(grpc.isCancelled());
        assertEquals(Status.Code.DEADLINE_EXCEEDED, Contexts.statusFromCancelled(grpc).getCode());
    }

    @Test
    void grpcContextsEndingFirstLeaveNothingOnALongLivedContextOfOurs() throws Exception {
        try (CancelHandle ours = Context.background().withCancel()) {
            for (int i = 0; i < 10_000; i++) {
                GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT).cancel(null);
            }
            int cells = GrpcInternals.listenerCells(ours);
            assertTrue(cells < 100, "withdrawn listeners are compacted away, not kept: " + cells);
        }
    }

    @Test
    void toGrpcFollowsALongLivedGrpcParentAndWhatGrpcKeepsOnItEndsWithIt() throws Exception {
        io.grpc.Context.Key<String> key = io.grpc.Context.key("k");
        io.grpc.Context.CancellableContext parent = io.grpc.Context.ROOT.withValue(key, "v")
                .withDeadlineAfter(1, TimeUnit.HOURS, java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r);
                    t.setDaemon(true);
                    return t;
                }));
        try (CancelHandle ours = Context.background().withCancel()) {
            for (int i = 0; i < 1_000; i++) {
                GrpcContexts.toGrpc(ours.context(), parent).cancel(null);
            }
            // grpc-java 1.85 keeps the listener a child context leaves on its cancellable ancestor until
            // that ancestor ends (README, resilience-grpc's limits). If this fails, gRPC changed: update the README.
            assertEquals(1_000, GrpcInternals.listenerCount(parent), "gRPC's own: one per child, until the parent ends");
            io.grpc.Context.CancellableContext open = GrpcContexts.toGrpc(ours.context(), parent);
            assertEquals("v", key.get(open), "the parent's values");
            assertEquals(parent.getDeadline(), open.getDeadline(), "the parent's deadline, ours having none");
            RuntimeException why = new IllegalStateException("parent cancelled");
            parent.cancel(why);
            assertTrue(open.isCancelled(), "the parent's cancellation reaches it");
            assertSame(why, open.cancellationCause());
            assertEquals(0, GrpcInternals.listenerCount(parent), "what gRPC kept ends with the parent");
        }
    }

    // ---------------------------------------------------------------- gRPC -> ours

    @Test
    void fromGrpcCarriesGrpcsDeadline() {
        io.grpc.Context.CancellableContext grpc = io.grpc.Context.ROOT.withDeadlineAfter(2, TimeUnit.SECONDS, scheduler);
        try (CancelHandle ours = GrpcContexts.fromGrpc(grpc)) {
            long theirs = grpc.getDeadline().timeRemaining(TimeUnit.NANOSECONDS);
            long remaining = ours.context().remainingNanos(); // read after theirs: never later
            assertTrue(remaining > SECOND && remaining <= theirs, "ours " + remaining + ", theirs " + theirs);
        } finally {
            grpc.cancel(null);
        }
    }

    @Test
    void cancellingGrpcsCancelsOursWithGrpcsCause() {
        io.grpc.Context.CancellableContext grpc = io.grpc.Context.ROOT.withCancellation();
        CancelHandle ours = GrpcContexts.fromGrpc(grpc);
        IllegalStateException why = new IllegalStateException("client went away");
        grpc.cancel(why);
        assertTrue(ours.context().isDone());
        assertInstanceOf(ContextCancelledException.class, ours.context().err());
        assertSame(why, ours.context().cause());
    }

    @Test
    void grpcsDeadlinePassingIsOurDeadlineExceeded() {
        io.grpc.Context.CancellableContext grpc = io.grpc.Context.ROOT.withDeadlineAfter(50, TimeUnit.MILLISECONDS, scheduler);
        try (CancelHandle ours = GrpcContexts.fromGrpc(grpc)) {
            WaitResult r = ours.context().waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            assertEquals(WaitResult.DEADLINE_EXCEEDED, r);
            assertInstanceOf(DeadlineExceededException.class, ours.context().err());
        } finally {
            grpc.cancel(null);
        }
    }

    @Test
    void fromACancelledGrpcContextIsDoneAtOnce() {
        io.grpc.Context.CancellableContext grpc = io.grpc.Context.ROOT.withCancellation();
        grpc.cancel(null);
        CancelHandle ours = GrpcContexts.fromGrpc(grpc);
        assertInstanceOf(ContextCancelledException.class, ours.context().err());
    }

    @Test
    void fromRootIsAPlainCancellableContext() {
        try (CancelHandle ours = GrpcContexts.fromGrpc(io.grpc.Context.ROOT, Context.background())) {
            assertTrue(ours.context().deadline().isEmpty());
            assertFalse(ours.context().isDone());
        }
    }

    @Test
    void closingOursUnhooksItFromALongLivedGrpcContext() throws Exception {
        io.grpc.Context.CancellableContext grpc = io.grpc.Context.ROOT.withCancellation();
        for (int i = 0; i < 1_000; i++) {
            GrpcContexts.fromGrpc(grpc).close();
        }
        assertEquals(0, GrpcInternals.listenerCount(grpc));
        CancelHandle open = GrpcContexts.fromGrpc(grpc);
        assertEquals(1, GrpcInternals.listenerCount(grpc));
        open.close();
        assertEquals(0, GrpcInternals.listenerCount(grpc));
        grpc.cancel(null);
    }

    // ---------------------------------------------------------------- both ways

    @Test
    void aRoundTripCarriesDeadlineAndCancellation() {
        CancelHandle ours = Context.background().withTimeout(Duration.ofSeconds(5));
        long start = System.nanoTime();
        io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(ours.context(), io.grpc.Context.ROOT);
        CancelHandle back = GrpcContexts.fromGrpc(grpc, Context.background());
        // toGrpc reads our remaining time and gRPC re-bases it on its own later clock reading, so gRPC's
        // deadline may lie after ours by at most the time the conversions took (long if the thread
        // stalls); fromGrpc bases ours on a reading taken before gRPC's remaining time, so it can only
        // come earlier. Ours is read first: the far end's later reading can only shrink its remaining.
        long conversions = System.nanoTime() - start;
        long oursRemaining = ours.context().remainingNanos();
        long remaining = back.context().remainingNanos();
        long total = System.nanoTime() - start;
        String figures = "the far end's remaining: " + remaining + ", ours: " + oursRemaining
                + ", conversions took " + conversions + ", all " + total;
        assertTrue(remaining <= oursRemaining + conversions, figures);
        assertTrue(remaining >= oursRemaining - total, "not cut short beyond the time that passed; " + figures);
        assertNull(back.context().err());
        ours.cancel();
        assertInstanceOf(ContextCancelledException.class, back.context().err());
        assertInstanceOf(ContextCancelledException.class, back.context().cause(), "gRPC's cause was our exception");
    }
}
