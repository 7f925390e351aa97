package dev.resilience.grpc;

import static dev.resilience.grpc.Loopback.ECHO;
import static dev.resilience.grpc.Loopback.STREAM;
import static dev.resilience.grpc.Loopback.UNARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.core.Backoff;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Hedge;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryBudget;
import dev.resilience.core.Timeout;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client interceptor against a real gRPC server (grpc-netty-shaded on loopback) that runs
 * {@link ResilienceServerInterceptor}, so what the server's handler sees as {@link Context#current()}
 * is what crossed the wire.
 */
class ResilienceClientInterceptorTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static Loopback loopback;

    /** Calls that reached the channel below our interceptor. */
    private final AtomicInteger below = new AtomicInteger();
    /** Of those, calls whose close reached the listeners above (ours included) and returned. */
    private final AtomicInteger closedBelow = new AtomicInteger();
    private final ClientInterceptor counting = new ClientInterceptor() {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            below.incrementAndGet();
            return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<Q, R>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    super.start(new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<R>(listener) {
                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            super.onClose(status, trailers);
                            closedBelow.incrementAndGet();
                        }
                    }, headers);
                }
            };
        }
    };

    @BeforeAll
    static void startServer() throws Exception {
        loopback = new Loopback(ResilienceServerInterceptor.create());
        // a server that sees more than 1 s of a 2 s deadline; a first attempt of a 200 ms timeout
        // that must reach the server
        loopback.warmUp();
    }

    @AfterAll
    static void stopServer() throws Exception {
        loopback.close();
    }

    @BeforeEach
    void reset() {
        loopback.handler.set(ECHO);
        loopback.invocations.set(0);
    }

    /** The loopback channel with {@code ours} first, then the counter, then the transport. */
    private Channel channel(ResilienceClientInterceptor ours) {
        return ClientInterceptors.intercept(loopback.channel, counting, ours);
    }

    /** Makes the server record its handler's remaining time, as our Context.current() tells it. */
    private AtomicLong serverRemaining() {
        AtomicLong seen = new AtomicLong(-1);
        loopback.handler.set((request, response) -> {
            seen.set(Context.current().remainingNanos());
            ECHO.handle(request, response);
        });
        return seen;
    }

    // ---------------------------------------------------------------- deadline

    @Test
    void ourShorterDeadlineGoesOnTheCallAndIsTheServersContext() throws Exception {
        AtomicLong seen = serverRemaining();
        Channel channel = channel(ResilienceClientInterceptor.create());
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY,
                    CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), "a"));
        }
        assertTrue(seen.get() > SECOND && seen.get() <= 2 * SECOND, "server's remaining: " + seen.get());
    }

    @Test
    void theCallsOwnShorterDeadlineWins() throws Exception {
        AtomicLong seen = serverRemaining();
        Channel channel = channel(ResilienceClientInterceptor.create());
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(60)); Scope s = h.attach()) {
            assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY,
                    CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), "a"));
        }
        assertTrue(seen.get() > SECOND && seen.get() <= 2 * SECOND, "server's remaining: " + seen.get());
    }

    @Test
    void withoutADeadlineAnywhereTheServerHasNone() throws Exception {
        AtomicLong seen = serverRemaining();
        Channel channel = channel(ResilienceClientInterceptor.create());
        assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        assertEquals(Long.MAX_VALUE, seen.get());
        assertEquals(1, below.get(), "under the background context the call goes straight through");
    }

    @Test
    void aCallAfterTheDeadlineFailsAtOnceWithoutTheNetwork() throws Exception {
        Channel channel = channel(ResilienceClientInterceptor.create());
        try (CancelHandle h = Context.current().withTimeout(Duration.ZERO); Scope s = h.attach()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            assertInstanceOf(DeadlineExceededException.class, e.getStatus().getCause());
            // the same through the future stub, which names no executor: closed on the starting thread
            Future<String> f = ClientCalls.futureUnaryCall(channel.newCall(UNARY, CallOptions.DEFAULT), "b");
            ExecutionException x = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, Status.fromThrowable(x.getCause()).getCode());
        }
        assertEquals(0, below.get(), "the channel below was never called");
        assertEquals(0, loopback.invocations.get());
    }

    @Test
    void aCallDeadlineFarInThePastOnAGrpcTestTickerFailsAsDeadlineExceeded() throws Exception {
        // gRPC keeps a deadline within 100 years of its ticker's reading when it is made; that ticker
        // (a test's) may then move on by more than Deadline.MAX_OFFSET_NANOS: due now, nothing thrown
        AtomicLong fakeNow = new AtomicLong();
        io.grpc.Deadline.Ticker fake = new io.grpc.Deadline.Ticker() {
            @Override
            public long nanoTime() {
                return fakeNow.get();
            }
        };
        io.grpc.Deadline past = io.grpc.Deadline.after(1, TimeUnit.SECONDS, fake);
        fakeNow.set(dev.resilience.context.Deadline.MAX_OFFSET_NANOS + 2 * SECOND);
        // guarded, so that the run's context is derived from the call's deadline
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(retry("past").maxAttempts(2).build()).build());
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(60)); Scope s = h.attach()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT.withDeadline(past), "a"));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.getStatus().toString());
        }
        assertEquals(0, loopback.invocations.get());
    }

    @Test
    void aCallUnderACancelledContextFailsAtOnceWithCancelled() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("cancelled-first").build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(breaker).build());
        CancelHandle h = Context.current().withCancel();
        h.cancel(new IllegalStateException("user left"));
        try (Scope s = h.attach()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
            assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            assertInstanceOf(ContextCancelledException.class, e.getStatus().getCause());
            assertEquals("user left", e.getStatus().getCause().getCause().getMessage());
        }
        assertEquals(0, below.get());
        assertEquals(0, breaker.counts().requests(), "no policy was consulted");
    }

    // ---------------------------------------------------------------- cancellation

    @Test
    void cancellingOurContextCancelsTheCallInFlightAndTheServerSeesIt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Throwable> serverSaw = new CompletableFuture<>();
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            started.countDown();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            serverSaw.complete(ctx.err());
        });
        Channel channel = channel(ResilienceClientInterceptor.create());
        CancelHandle h = Context.current().withCancel();
        Future<String> f;
        try (Scope s = h.attach()) {
            f = ClientCalls.futureUnaryCall(channel.newCall(UNARY, CallOptions.DEFAULT), "a");
        }
        assertTrue(started.await(5, TimeUnit.SECONDS));
        h.cancel(new IllegalStateException("user left"));

        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        Status status = Status.fromThrowable(e.getCause());
        assertEquals(Status.Code.CANCELLED, status.getCode());
        assertInstanceOf(ContextCancelledException.class, status.getCause());
        assertInstanceOf(ContextCancelledException.class, serverSaw.get(5, TimeUnit.SECONDS),
                "the server's handler saw its context cancelled");
    }

    @Test
    void ourDeadlinePassingInFlightEndsTheCallWithDeadlineExceeded() throws Exception {
        CompletableFuture<Context> serverSaw = new CompletableFuture<>();
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            serverSaw.complete(ctx);
        });
        Channel channel = channel(ResilienceClientInterceptor.create());
        long start = System.nanoTime();
        try (CancelHandle h = Context.current().withTimeout(Duration.ofMillis(300)); Scope s = h.attach()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        }
        ResilienceServerInterceptorTest.assertEndedByTheDeadline(serverSaw.get(5, TimeUnit.SECONDS), start, 300);
    }

    // ---------------------------------------------------------------- guards

    private static Retry.Builder retry(String name) {
        return Retry.builder(name).backoff(Backoff.fixed(Duration.ofMillis(5))).retryOn(GrpcStatuses::isRetryable);
    }

    @Test
    void retriesUnavailableThenSucceedsWithinOurDeadline() throws Exception {
        Loopback.Handler flaky = Loopback.failing(2, Status.UNAVAILABLE);
        AtomicLong seen = new AtomicLong(-1);
        loopback.handler.set((request, response) -> {
            seen.set(Context.current().remainingNanos());
            flaky.handle(request, response);
        });
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(retry("unavailable").maxAttempts(4).build()).build());
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        }
        assertEquals(3, loopback.invocations.get());
        assertEquals(3, below.get(), "each attempt is a fresh call below");
        assertEquals("2", loopback.lastHeaders.get().get(GuardedCall.PREVIOUS_ATTEMPTS));
        assertTrue(seen.get() > SECOND && seen.get() <= 2 * SECOND, "the last attempt's deadline was ours: " + seen.get());
    }

    @Test
    void aShorterDeadlineOfTheCallBoundsTheRetriesToo() throws Exception {
        loopback.handler.set(Loopback.failing(Integer.MAX_VALUE, Status.UNAVAILABLE));
        Retry slowRetry = Retry.builder("slow-backoff").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(400)))
                .retryOn(GrpcStatuses::isRetryable).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(slowRetry).build());
        long start = System.nanoTime();
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(30)); Scope s = h.attach()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                    channel, UNARY, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), "a"));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), "the last attempt's outcome");
        }
        assertEquals(1, loopback.invocations.get(), "a 400 ms backoff would pass the call's 300 ms deadline: no retry");
        assertTrue(System.nanoTime() - start < 5 * SECOND);
    }

    @Test
    void doesNotRetryInvalidArgumentAndTheBreakerCountsItAsAnAnswer() throws Exception {
        loopback.handler.set(Loopback.failing(Integer.MAX_VALUE, Status.INVALID_ARGUMENT.withDescription("bad item")));
        CircuitBreaker breaker = CircuitBreaker.builder("answers").isSuccessful(GrpcStatuses::isClientError).build();
        Pipeline<Object> guards = Pipeline.builder("answers").add(retry("answers").maxAttempts(4).build()).add(breaker).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().pipeline(guards).build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("bad item", e.getStatus().getDescription());
        assertEquals(1, loopback.invocations.get());
        assertEquals(1, breaker.counts().totalSuccesses());
        assertEquals(0, breaker.counts().totalFailures());
    }

    @Test
    void anExhaustedRetryBudgetStopsRetries() throws Exception {
        loopback.handler.set(Loopback.failing(Integer.MAX_VALUE, Status.UNAVAILABLE));
        RetryBudget budget = RetryBudget.of(1.0, 0, 1); // a call deposits one retry; nothing else
        Retry retry = retry("budget").maxAttempts(5).budget(budget).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(retry).build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertEquals(2, loopback.invocations.get(), "one retry, then the budget was empty (not 5 attempts)");
    }

    @Test
    void theBreakerOpensAfterFailuresThenFailsFastWithoutTheNetwork() throws Exception {
        loopback.handler.set(Loopback.failing(Integer.MAX_VALUE, Status.UNAVAILABLE));
        CircuitBreaker breaker = CircuitBreaker.builder("opens").readyToTrip(c -> c.consecutiveFailures() >= 3)
                .openDuration(Duration.ofMinutes(5)).isSuccessful(GrpcStatuses::isClientError).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(breaker).build());
        for (int i = 0; i < 3; i++) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertNull(e.getStatus().getCause(), "the server's own UNAVAILABLE");
        }
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());

        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
        assertInstanceOf(CallNotPermittedException.class, refused.getStatus().getCause());
        assertEquals(3, loopback.invocations.get());
        assertEquals(3, below.get(), "the refused call never reached the channel");
        assertTrue(!GrpcStatuses.isRetryable(refused), "a refusal is not retried by an outer retry");
    }

    @Test
    void aLimiterRefusalIsResourceExhausted() throws Exception {
        RateLimiter limiter = RateLimiter.builder("limited").rate(0.001).burst(1).maxWait(Duration.ZERO).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(limiter).build());
        assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "b"));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertInstanceOf(RequestNotPermittedException.class, e.getStatus().getCause());
        assertEquals(1, loopback.invocations.get());
        assertEquals(1, below.get());
    }

    @Test
    void aPerAttemptTimeoutBoundsEachAttemptAndTheRetryTriesAgain() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        CompletableFuture<Context> firstSaw = new CompletableFuture<>();
        AtomicLong firstRemaining = new AtomicLong();
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            if (seen.incrementAndGet() == 1) { // the first attempt hangs until its own deadline
                firstRemaining.set(ctx.remainingNanos());
                ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
                firstSaw.complete(ctx);
                return;
            }
            ECHO.handle(request, response);
        });
        Pipeline<Object> guards = Pipeline.builder("per-attempt")
                .add(retry("per-attempt").maxAttempts(3).build())
                .add(Timeout.builder("per-attempt").timeout(Duration.ofMillis(200)).build())
                .build();
        Channel channel = channel(ResilienceClientInterceptor.builder().pipeline(guards).build());
        long start = System.nanoTime();
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(10)); Scope s = h.attach()) {
            assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        }
        assertTrue(firstRemaining.get() > 0 && firstRemaining.get() <= 200_000_000L,
                "the first attempt carried its own 200 ms deadline: " + firstRemaining.get());
        ResilienceServerInterceptorTest.assertEndedByTheDeadline(firstSaw.get(5, TimeUnit.SECONDS), start, 200);
        assertEquals(2, seen.get());
    }

    @Test
    void aHedgeCancelsTheLosingAttemptAcrossTheWire() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        CompletableFuture<Context> loserSaw = new CompletableFuture<>();
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            if (seen.incrementAndGet() == 1) { // the first attempt is stuck
                ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
                loserSaw.complete(ctx);
                return;
            }
            ECHO.handle(request, response);
        });
        CircuitBreaker breaker = CircuitBreaker.builder("hedged").build(); // default exclusions
        Pipeline<Object> guards = Pipeline.builder("hedged")
                .add(Hedge.builder("hedge").delay(Duration.ofMillis(50)).maxHedges(1).build()).add(breaker).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().pipeline(guards).build());
        assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
        Context loser = loserSaw.get(5, TimeUnit.SECONDS);
        assertInstanceOf(ContextCancelledException.class, loser.err(), "the losing attempt was cancelled on the server");
        assertEquals(2, below.get());
        // The hedge cancels the loser's context, then its stage, when the winner answers: whichever
        // reaches the breaker first decides, an exclusion (the gRPC call's cancellation arrived first)
        // or a permit given back uncounted (the stage's cancel did); never a failure.
        long until = System.nanoTime() + 5 * SECOND;
        while (closedBelow.get() < 2 && System.nanoTime() < until) {
            Thread.onSpinWait(); // the loser's close arrives on the channel's thread: after it, nothing more can count
        }
        assertEquals(2, closedBelow.get(), "both attempts closed");
        CircuitBreaker.Counts c = breaker.counts();
        assertEquals(0, c.totalFailures(), "the cancelled loser is not a failure: " + c);
        assertEquals(1, c.totalSuccesses());
        assertTrue(c.totalExclusions() <= 1 && c.requests() == 1 + c.totalExclusions(), "the winner, and the loser at most as an exclusion: " + c);
    }

    @Test
    void manyCallsUnderALongLivedContextLeaveNothingOnIt() throws Exception {
        Channel plain = channel(ResilienceClientInterceptor.create());
        Channel guarded = channel(ResilienceClientInterceptor.builder().policy(retry("long-lived").build()).build());
        try (CancelHandle h = Context.current().withTimeout(Duration.ofMinutes(5)); Scope s = h.attach()) {
            for (int i = 0; i < 200; i++) {
                assertEquals("echo:" + i, ClientCalls.blockingUnaryCall(i % 2 == 0 ? plain : guarded, UNARY,
                        CallOptions.DEFAULT, Integer.toString(i)));
            }
            int cells = GrpcInternals.listenerCells(h);
            assertTrue(cells < 40, "every call withdrew its hook from the context (withdrawn ones are compacted): " + cells);
        }
    }

    @Test
    void streamingCallsGetTheDeadlineButNoGuard() throws Exception {
        AtomicLong seen = serverRemaining();
        CircuitBreaker breaker = CircuitBreaker.builder("streaming").build();
        breaker.forceOpen();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(breaker).build());
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            Iterator<String> replies = ClientCalls.blockingServerStreamingCall(channel, STREAM, CallOptions.DEFAULT, "a");
            assertEquals("echo:a", replies.next());
            assertTrue(!replies.hasNext());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
            assertInstanceOf(CallNotPermittedException.class, e.getStatus().getCause(), "unary calls are guarded");
        }
        assertTrue(seen.get() > SECOND && seen.get() <= 2 * SECOND, "server's remaining: " + seen.get());
        assertEquals(1, loopback.invocations.get());
    }

    @Test
    void theMethodsPredicateNarrowsTheGuard() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("narrow").build();
        breaker.forceOpen();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(breaker)
                .methods(MethodDescriptor::isIdempotent).build()); // Loopback's methods are not marked idempotent
        assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
    }

    @Test
    void unguardedCallsUnderALongLivedGrpcContextFollowItAndWhatGrpcKeepsOnItEndsWithIt() throws Exception {
        // a streaming handler's io.grpc.Context, say, making calls downstream
        Channel channel = channel(ResilienceClientInterceptor.create());
        io.grpc.Context.CancellableContext longLived = io.grpc.Context.ROOT.withCancellation();
        try (CancelHandle h = Context.current().withTimeout(Duration.ofSeconds(60)); Scope s = h.attach()) {
            io.grpc.Context previous = longLived.attach();
            try {
                for (int i = 0; i < 200; i++) {
                    assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
                }
                // grpc-java 1.85 keeps the listener of each call's child context on its cancellable
                // ancestor until the ancestor ends (README, resilience-grpc's limits): gRPC's, not ours
                assertEquals(200, GrpcInternals.listenerCount(longLived), "if this fails, gRPC changed: update the README");
                CountDownLatch started = new CountDownLatch(1);
                loopback.handler.set((request, response) -> {
                    started.countDown();
                    Context.current().waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
                    response.onError(Status.CANCELLED.asRuntimeException());
                });
                Future<String> f = ClientCalls.futureUnaryCall(channel.newCall(UNARY, CallOptions.DEFAULT), "b");
                assertTrue(started.await(5, TimeUnit.SECONDS));
                longLived.cancel(null); // the call in flight ends with it
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
                assertEquals(Status.Code.CANCELLED, Status.fromThrowable(e.getCause()).getCode());
                assertEquals(0, GrpcInternals.listenerCount(longLived), "what gRPC kept ends with the context");
            } finally {
                longLived.detach(previous);
            }
        }
    }

    @Test
    void cancellingOurContextEndsAGuardedCallAndItsRetries() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Throwable> serverSaw = new CompletableFuture<>();
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            started.countDown();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            serverSaw.complete(ctx.err());
        });
        Retry retryAll = Retry.builder("retry-everything").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(5))).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(retryAll).build());
        CancelHandle h = Context.current().withCancel();
        Future<String> f;
        try (Scope s = h.attach()) {
            f = ClientCalls.futureUnaryCall(channel.newCall(UNARY, CallOptions.DEFAULT), "a");
        }
        assertTrue(started.await(5, TimeUnit.SECONDS));
        h.cancel();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(e.getCause()).getCode());
        assertInstanceOf(ContextCancelledException.class, serverSaw.get(5, TimeUnit.SECONDS));
        assertEquals(1, loopback.invocations.get(), "no attempt after the context ended, even for a retry-everything policy");
    }

    @Test
    void cancellingTheApplicationsGrpcContextEndsAGuardedCallAndItsRetries() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        loopback.handler.set((request, response) -> {
            started.countDown();
            Context.current().waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            response.onError(Status.CANCELLED.asRuntimeException());
        });
        Retry retryAll = Retry.builder("retry-everything").maxAttempts(5).backoff(Backoff.fixed(Duration.ofMillis(5))).build();
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(retryAll).build());
        io.grpc.Context.CancellableContext grpcContext = io.grpc.Context.current().withCancellation();
        Future<String> f = grpcContext.call(() -> ClientCalls.futureUnaryCall(channel.newCall(UNARY, CallOptions.DEFAULT), "a"));
        assertTrue(started.await(5, TimeUnit.SECONDS));
        grpcContext.cancel(null); // e.g. a handler's context whose client left, without the server interceptor
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(e.getCause()).getCode());
        assertEquals(1, loopback.invocations.get(), "the run ended with the application's context: no retries");
    }

    @Test
    void theApplicationsCancelEndsAGuardedCallOnceAndTheServerSeesIt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Throwable> serverSaw = new CompletableFuture<>();
        loopback.handler.set((request, response) -> {
            Context ctx = Context.current();
            started.countDown();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            serverSaw.complete(ctx.err());
        });
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(retry("app-cancel").build()).build());
        ClientCall<String, String> call = channel.newCall(UNARY, CallOptions.DEFAULT);
        Loopback.Recorder<String> recorder = new Loopback.Recorder<>();
        call.start(recorder, new Metadata());
        call.request(1);
        call.sendMessage("a");
        call.halfClose();
        assertTrue(started.await(5, TimeUnit.SECONDS));
        call.cancel("the application gave up", null);

        Status status = recorder.awaitClose();
        assertEquals(Status.Code.CANCELLED, status.getCode());
        assertEquals("the application gave up", status.getDescription());
        assertInstanceOf(ContextCancelledException.class, serverSaw.get(5, TimeUnit.SECONDS));
        assertEquals(1, recorder.closes.get());
        assertEquals(0, recorder.messages.get());
    }

    @Test
    void theResponseWaitsUntilTheApplicationRequestsIt() throws Exception {
        CountDownLatch policyDone = new CountDownLatch(1);
        dev.resilience.core.Policy observed = new dev.resilience.core.Policy() {
            @Override
            public String name() {
                return "observed";
            }

            @Override
            public <T> T execute(dev.resilience.core.Invoker<T> chain, int next, java.util.concurrent.Callable<T> task)
                    throws Exception {
                return chain.invoke(next, task);
            }

            @Override
            public <T> java.util.concurrent.CompletionStage<T> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
                return dev.resilience.core.Policy.start(task).whenComplete((v, e) -> policyDone.countDown());
            }
        };
        Channel channel = channel(ResilienceClientInterceptor.builder().policy(observed).build());
        ClientCall<String, String> call = channel.newCall(UNARY, CallOptions.DEFAULT);
        Loopback.Recorder<String> recorder = new Loopback.Recorder<>();
        call.start(recorder, new Metadata());
        call.sendMessage("a");
        call.halfClose();
        assertTrue(policyDone.await(5, TimeUnit.SECONDS));
        assertEquals(0, recorder.messages.get(), "no response before request()");
        assertEquals(1, recorder.closed.getCount());
        call.request(1);
        assertEquals(Status.Code.OK, recorder.awaitClose().getCode());
        assertEquals("echo:a", recorder.message);
        assertEquals(1, recorder.headers.get());
        assertEquals(1, recorder.closes.get());
    }

    @Test
    void builderRejectsMisuse() {
        CircuitBreaker breaker = CircuitBreaker.builder("misuse").build();
        Pipeline<Object> withFallback = Pipeline.builder("fallback")
                .add(dev.resilience.core.Fallback.on(RuntimeException.class).to(e -> "x")).build();
        assertThrows(IllegalArgumentException.class, () -> ResilienceClientInterceptor.builder().pipeline(withFallback));
        assertThrows(IllegalStateException.class, () -> ResilienceClientInterceptor.builder().policy(breaker).policy(breaker));
        assertThrows(IllegalStateException.class, () -> ResilienceClientInterceptor.builder().methods(m -> true).build());
        assertThrows(NullPointerException.class, () -> ResilienceClientInterceptor.builder().policy(null));
    }
}
