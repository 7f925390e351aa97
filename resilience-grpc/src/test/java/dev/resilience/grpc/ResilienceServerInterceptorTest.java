package dev.resilience.grpc;

import static dev.resilience.grpc.Loopback.ECHO;
import static dev.resilience.grpc.Loopback.UNARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ContextExecutors;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Ticker;
import io.grpc.CallOptions;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server interceptor behind a real gRPC server (grpc-netty-shaded on loopback), called by a
 * plain grpc-java client: the caller's deadline and cancellation become the handler's
 * {@link Context#current()}, and travel on to its executors through {@link ContextExecutors}.
 */
class ResilienceServerInterceptorTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static Loopback loopback;
    private static ExecutorService pool;

    @BeforeAll
    static void startServer() throws Exception {
        loopback = new Loopback(ResilienceServerInterceptor.create());
        pool = ContextExecutors.wrap(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "handler-pool");
            t.setDaemon(true);
            return t;
        }));
        loopback.warmUp();
    }

    @AfterAll
    static void stopServer() throws Exception {
        loopback.close();
        pool.shutdownNow();
    }

    @BeforeEach
    void reset() {
        loopback.handler.set(ECHO);
    }

    @Test
    void theHandlerSeesTheCallersDeadlineAsItsContext() throws Exception {
        AtomicReference<long[]> seen = new AtomicReference<>();
        loopback.handler.set((request, response) -> {
            long grpc = io.grpc.Context.current().getDeadline().timeRemaining(TimeUnit.NANOSECONDS);
            long ours = Context.current().remainingNanos(); // read after gRPC's: must not be later
            seen.set(new long[] {grpc, ours});
            ECHO.handle(request, response);
        });
        ClientCalls.blockingUnaryCall(loopback.channel, UNARY, CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), "a");
        long grpc = seen.get()[0];
        long ours = seen.get()[1];
        assertTrue(ours > SECOND && ours <= 2 * SECOND, "ours: " + ours);
        assertTrue(ours <= grpc, "ours " + ours + " is never later than gRPC's " + grpc);
    }

    @Test
    void theServersMaximumCutsALongerClientDeadlineAndItsDefaultBoundsACallWithout() throws Exception {
        ResilienceServerInterceptor bounded = ResilienceServerInterceptor.builder()
                .maxTimeout(java.time.Duration.ofMillis(800)).defaultTimeout(java.time.Duration.ofMillis(400)).build();
        try (Loopback server = new Loopback(bounded)) {
            server.handler.set((request, response) -> {
                response.onNext(Long.toString(Context.current().remainingNanos()));
                response.onCompleted();
            });
            long asked10s = Long.parseLong(ClientCalls.blockingUnaryCall(server.channel, UNARY,
                    CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "a"));
            assertTrue(asked10s > 0 && asked10s <= TimeUnit.MILLISECONDS.toNanos(800), "cut to the maximum: " + asked10s);
            long none = Long.parseLong(ClientCalls.blockingUnaryCall(server.channel, UNARY, CallOptions.DEFAULT, "b"));
            assertTrue(none > 0 && none <= TimeUnit.MILLISECONDS.toNanos(400), "the default: " + none);
            long asked300ms = Long.parseLong(ClientCalls.blockingUnaryCall(server.channel, UNARY,
                    CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), "c"));
            assertTrue(asked300ms > 0 && asked300ms <= TimeUnit.MILLISECONDS.toNanos(300), "a shorter one kept: " + asked300ms);
        }
        assertThrows(IllegalArgumentException.class, () -> ResilienceServerInterceptor.builder()
                .maxTimeout(java.time.Duration.ofSeconds(1)).defaultTimeout(java.time.Duration.ofSeconds(2)).build());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> ResilienceServerInterceptor.builder().maxTimeout(java.time.Duration.ZERO));
        assertTrue(zero.getMessage().contains("maxTimeout"), zero.getMessage());
        assertThrows(IllegalStateException.class, () -> ResilienceServerInterceptor.builder()
                .defaultTimeout(java.time.Duration.ofSeconds(1)).defaultTimeout(java.time.Duration.ofSeconds(1)));
        ResilienceServerInterceptor huge = ResilienceServerInterceptor.builder().maxTimeout(java.time.Duration.ofDays(365 * 1000))
                .defaultTimeout(java.time.Duration.ofDays(365 * 1000)).build();
        try (Loopback server = new Loopback(huge)) {
            server.handler.set((request, response) -> {
                response.onNext(Long.toString(Context.current().remainingNanos()));
                response.onCompleted();
            });
            long none = Long.parseLong(ClientCalls.blockingUnaryCall(server.channel, UNARY, CallOptions.DEFAULT, "d"));
            assertTrue(none > TimeUnit.DAYS.toNanos(365 * 100), "a huge default is capped, not refused: " + none);
        }
    }

    @Test
    void withoutADeadlineTheContextHasNoneAndEndsWithTheCall() throws Exception {
        AtomicReference<Context> seen = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            seen.set(ctx);
            assertFalse(ctx.isDone());
            ctx.onDone(ended::countDown, Runnable::run);
            ECHO.handle(request, response);
        });
        assertEquals("echo:a", ClientCalls.blockingUnaryCall(loopback.channel, UNARY, CallOptions.DEFAULT, "a"));
        assertTrue(seen.get().deadline().isEmpty());
        assertTrue(ended.await(5, TimeUnit.SECONDS), "the call's context is cancelled once the call completes");
        assertInstanceOf(ContextCancelledException.class, seen.get().err());
    }

    @Test
    void theDeadlineReachesTheHandlersExecutor() throws Exception {
        loopback.handler.set((request, response) -> pool.execute(() -> { // ContextExecutors.wrap carries it
            response.onNext(Long.toString(Context.current().remainingNanos()));
            response.onCompleted();
        }));
        String reply = ClientCalls.blockingUnaryCall(loopback.channel, UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), "a");
        long remaining = Long.parseLong(reply);
        assertTrue(remaining > SECOND && remaining <= 2 * SECOND, "the task's remaining time: " + remaining);
    }

    @Test
    void theClientsCancellationReachesTheHandlersExecutorAtOnce() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<Context> taskSaw = new CompletableFuture<>();
        loopback.handler.set((request, response) -> pool.execute(() -> {
            Context ctx = Context.current();
            waiting.countDown();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND); // the call never gets a reply
            taskSaw.complete(ctx);
        }));
        Future<String> f = ClientCalls.futureUnaryCall(loopback.channel.newCall(UNARY, CallOptions.DEFAULT), "a");
        assertTrue(waiting.await(5, TimeUnit.SECONDS));
        f.cancel(true); // a plain grpc-java client cancels its call

        Context ctx = taskSaw.get(5, TimeUnit.SECONDS);
        assertInstanceOf(ContextCancelledException.class, ctx.err());
        assertNotNull(ctx.cause(), "gRPC's cancellation cause is kept");
    }

    @Test
    void theCallersDeadlinePassingEndsTheHandlersContext() throws Exception {
        CompletableFuture<Context> taskSaw = new CompletableFuture<>();
        long start = System.nanoTime();
        loopback.handler.set((request, response) -> pool.execute(() -> {
            Context ctx = Context.current();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            taskSaw.complete(ctx);
        }));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                loopback.channel, UNARY, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), "a"));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertEndedByTheDeadline(taskSaw.get(5, TimeUnit.SECONDS), start, 300);
    }

    /**
     * The context ended when the caller's deadline passed: by the server's own deadline
     * ({@link DeadlineExceededException}), or, when the client's cancellation at the same moment
     * arrives a hair sooner (gRPC's own race: grpc-java's server reports that call as
     * cancelled too), by gRPC's cancellation.
     */
    static void assertEndedByTheDeadline(Context ctx, long startNanos, long deadlineMillis) {
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        assertTrue(elapsedMillis >= deadlineMillis - 50, "ended after " + elapsedMillis + " ms, not at the deadline");
        Throwable err = ctx.err();
        if (!(err instanceof DeadlineExceededException)) {
            assertInstanceOf(ContextCancelledException.class, err);
            assertEquals(Status.Code.CANCELLED, GrpcStatuses.code(ctx.cause()), "the client's cancellation: " + ctx.cause());
        }
    }

    @Test
    void onCancelRunsWithTheContextAlreadyDone() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Boolean> doneInOnCancel = new CompletableFuture<>();
        loopback.handler.set((request, response) -> {
            ServerCallStreamObserver<String> observer = (ServerCallStreamObserver<String>) response;
            observer.setOnCancelHandler(() -> doneInOnCancel.complete(Context.current().isDone()));
            started.countDown(); // returns without replying: the call stays open
        });
        Future<String> f = ClientCalls.futureUnaryCall(loopback.channel.newCall(UNARY, CallOptions.DEFAULT), "a");
        assertTrue(started.await(5, TimeUnit.SECONDS));
        f.cancel(true);
        assertTrue(doneInOnCancel.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aHandlerThatThrowsWhenStartingLeavesNothingBehind() throws Exception {
        io.grpc.Context.CancellableContext call = io.grpc.Context.ROOT.withCancellation();
        AtomicReference<Context> seen = new AtomicReference<>();
        IllegalStateException boom = new IllegalStateException("boom");
        io.grpc.Context previous = call.attach();
        try {
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> ResilienceServerInterceptor.create().interceptCall(null, new Metadata(), (c, headers) -> {
                        seen.set(Context.current());
                        throw boom;
                    }));
            assertSame(boom, thrown);
        } finally {
            call.detach(previous);
        }
        assertSame(boom, seen.get().cause(), "startCall ran under the call's context, which was cancelled with the failure");
        assertEquals(0, GrpcInternals.listenerCount(call), "the listener on io.grpc.Context was withdrawn");
        call.cancel(null);
    }
}
