package dev.resilience.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Ticker;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.RequestNotPermittedException;
import io.grpc.CallOptions;
import io.grpc.Deadline;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The limit interceptor in a real gRPC server (grpc-netty-shaded on loopback), called by a plain
 * grpc-java client. Services: {@code test.A} (limited as a service, fixed limit 2; {@code Call} and
 * the server-streaming {@code Stream}) and {@code test.B} with per-method limiters: {@code Call}
 * (fixed 2), {@code Adapt} (AIMD from 10, halving on a drop or a round trip over 1 s, on a manual
 * ticker the handler advances), {@code Leak} and {@code BadStart} (fixed 64, for the permit
 * accounting). A classifier sends calls with {@code x-group: b} to {@code test.B/Call}'s limiter,
 * and throws for {@code x-group: boom}.
 * The request string says what the handler does: {@code ok}, {@code hold}, {@code never},
 * {@code status:<CODE>}, {@code advance:<ms>}, {@code throw}.
 */
class AdaptiveLimitServerInterceptorTest {

    /** grpc-java logs what a handler throws: asserted here, not printed. Held so the setting stays. */
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static final ManualTicker TICKER = new ManualTicker();
    private static final AdaptiveLimiter A = fixed("a", 2);
    private static final AdaptiveLimiter B = fixed("b", 2);
    private static final AdaptiveLimiter LEAK = fixed("leak", 64);
    private static final AdaptiveLimiter ADAPT = AdaptiveLimiter.builder("adapt")
            .algorithm(LimitAlgorithm.aimd(10, 1, 10, 0.5, Duration.ofSeconds(1))).ticker(TICKER).build();

    private static final MethodDescriptor<String, String> A_CALL = unary("test.A", "Call");
    private static final MethodDescriptor<String, String> A_STREAM = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
            .setFullMethodName("test.A/Stream").setRequestMarshaller(Loopback.UTF8)
            .setResponseMarshaller(Loopback.UTF8).build();
    private static final MethodDescriptor<String, String> B_CALL = unary("test.B", "Call");
    private static final MethodDescriptor<String, String> B_ADAPT = unary("test.B", "Adapt");
    private static final MethodDescriptor<String, String> B_LEAK = unary("test.B", "Leak");
    private static final MethodDescriptor<String, String> B_BAD_START = unary("test.B", "BadStart");
    private static final Metadata.Key<String> GROUP = Metadata.Key.of("x-group", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> QUEUE = Metadata.Key.of("x-test-queue", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> BAD = Metadata.Key.of("x-bad", Metadata.ASCII_STRING_MARSHALLER);

    private static Server server;
    private static ManagedChannel channel;
    private static ExecutorService serverExecutor;
    private static ExecutorService clients;

    /** Handler runs by full method name. */
    private static final Map<String, AtomicInteger> HANDLED = new ConcurrentHashMap<>();
    /** The statuses calls were closed with through {@link ServerCall#close}, as the outermost interceptor saw them. */
    private static final BlockingQueue<Status> CLOSED = new LinkedBlockingQueue<>();
    private static volatile CountDownLatch arrived = new CountDownLatch(0);
    private static volatile CountDownLatch release = new CountDownLatch(0);

    private static AdaptiveLimiter fixed(String name, int limit) {
        return AdaptiveLimiter.builder(name)
                .algorithm(LimitAlgorithm.aimd(limit, limit, limit, 0.5, Duration.ofHours(1))).build();
    }

    private static MethodDescriptor<String, String> unary(String service, String method) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
                .setRequestMarshaller(Loopback.UTF8)
                .setResponseMarshaller(Loopback.UTF8)
                .build();
    }

    @BeforeAll
    static void startServer() throws Exception {
        GRPC_LOG.setLevel(Level.OFF);
        serverExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "limit-test-server");
            t.setDaemon(true);
            return t;
        });
        clients = Executors.newCachedThreadPool();
        AdaptiveLimitServerInterceptor limits = AdaptiveLimitServerInterceptor.builder()
                .service("test.A", A)
                .method("test.B/Call", B)
                .method("test.B/Adapt", ADAPT)
                .method("test.B/Leak", LEAK)
                .method("test.B/BadStart", LEAK)
                .classifier((method, headers) -> {
                    if ("boom".equals(headers.get(GROUP))) {
                        throw new IllegalStateException("provoked in the classifier");
                    }
                    return "b".equals(headers.get(GROUP)) ? B : null;
                })
                .retryAfter(Duration.ofMillis(1500))
                .build();
        ServerServiceDefinition a = ServerServiceDefinition.builder("test.A")
                .addMethod(A_CALL, ServerCalls.asyncUnaryCall((req, resp) -> serve(A_CALL, req, resp)))
                .addMethod(A_STREAM, ServerCalls.asyncServerStreamingCall((req, resp) -> serve(A_STREAM, req, resp)))
                .build();
        ServerServiceDefinition b = ServerServiceDefinition.builder("test.B")
                .addMethod(B_CALL, ServerCalls.asyncUnaryCall((req, resp) -> serve(B_CALL, req, resp)))
                .addMethod(B_ADAPT, ServerCalls.asyncUnaryCall((req, resp) -> serve(B_ADAPT, req, resp)))
                .addMethod(B_LEAK, ServerCalls.asyncUnaryCall((req, resp) -> serve(B_LEAK, req, resp)))
                .addMethod(B_BAD_START, new ServerCallHandler<String, String>() {
                    @Override
                    public ServerCall.Listener<String> startCall(ServerCall<String, String> call, Metadata headers) {
                        count(call.getMethodDescriptor());
                        if ("throw".equals(headers.get(BAD))) {
                            throw new IllegalStateException("provoked in startCall");
                        }
                        return null; // grpc-java fails such a call
                    }
                })
                .build();
        ServerInterceptor queue = new QueueInterceptor();
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .executor(serverExecutor)
                .addService(ServerInterceptors.intercept(a, ResilienceServerInterceptor.create(), limits, queue))
                .addService(ServerInterceptors.intercept(b, ResilienceServerInterceptor.create(), limits, queue))
                .build()
                .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterAll
    static void stopServer() throws Exception {
        release.countDown();
        channel.shutdownNow();
        server.shutdownNow();
        assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS));
        assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
        serverExecutor.shutdownNow();
        clients.shutdownNow();
        assertTrue(clients.awaitTermination(10, TimeUnit.SECONDS));
    }

    @AfterEach
    void noPermitLeftBehind() {
        release.countDown();
        for (AdaptiveLimiter l : new AdaptiveLimiter[] {A, B, LEAK, ADAPT}) {
            awaitTrue(() -> l.inFlight() == 0, "every permit of " + l + " came back");
        }
    }

    // ---------------------------------------------------------------- the server side

    private static void serve(MethodDescriptor<?, ?> method, String request, StreamObserver<String> response) {
        count(method);
        if (request.equals("hold")) {
            arrived.countDown();
            await(release);
        } else if (request.equals("never")) {
            return; // the call stays open until the client cancels it or its deadline passes
        } else if (request.startsWith("advance:")) {
            TICKER.advance(Duration.ofMillis(Long.parseLong(request.substring("advance:".length()))));
        } else if (request.startsWith("status:")) {
            response.onError(Status.Code.valueOf(request.substring("status:".length())).toStatus().asRuntimeException());
            return;
        } else if (request.equals("throw")) {
            throw new IllegalStateException("provoked in the handler");
        } else if (request.equals("wait-deadline")) {
            Context.current().waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            awaitGrpcEnd();
        } else if (request.equals("throw-late")) { // throws the context's exception once the deadline passed
            Context.current().waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            awaitGrpcEnd();
            Context.current().throwIfDone();
        } else if (request.equals("wouldpass")) {
            throw new RequestNotPermittedException("outbound", RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE,
                    "a wait would pass the deadline");
        }
        response.onNext("ok");
        response.onCompleted();
    }

    /**
     * Our context and gRPC's deadline come from the same header but run on different timers: a
     * handler that answers (or throws) once ours passed waits until gRPC has ended the call too, or
     * its answer can beat the client's own deadline timer (seen twice in full builds on 2026-12-02:
     * "ok" and UNKNOWN instead of DEADLINE_EXCEEDED).
     */
    private static void awaitGrpcEnd() {
        long end = System.nanoTime() + 10 * SECOND;
        while (!io.grpc.Context.current().isCancelled() && System.nanoTime() < end) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
    }

    private static void count(MethodDescriptor<?, ?> method) {
        HANDLED.computeIfAbsent(method.getFullMethodName(), k -> new AtomicInteger()).incrementAndGet();
    }

    private static int handled(MethodDescriptor<?, ?> method) {
        AtomicInteger n = HANDLED.get(method.getFullMethodName());
        return n == null ? 0 : n.get();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The outermost interceptor: records the status of every close, and with
     * {@code x-test-queue: expire} holds the call until its deadline has passed, as a long executor
     * queue would.
     */
    static final class QueueInterceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            if ("expire".equals(headers.get(QUEUE))) {
                io.grpc.Context grpc = io.grpc.Context.current();
                CountDownLatch ended = new CountDownLatch(1);
                grpc.addListener(c -> ended.countDown(), Runnable::run);
                await(ended); // the server's deadline, or the client's cancellation a hair sooner
                io.grpc.Deadline d = grpc.getDeadline();
                long end = System.nanoTime() + 10 * SECOND;
                while (d != null && !d.isExpired() && System.nanoTime() < end) {
                    LockSupport.parkNanos(Math.max(1, d.timeRemaining(TimeUnit.NANOSECONDS)));
                }
            }
            ServerCall<Q, R> recording = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void close(Status status, Metadata trailers) {
                    CLOSED.add(status);
                    super.close(status, trailers);
                }
            };
            return next.startCall(recording, headers);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + 10 * SECOND;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // polls; the bound is the deadline above
        }
    }

    private static Channel withHeader(Metadata.Key<String> key, String value) {
        Metadata md = new Metadata();
        md.put(key, value);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
    }

    private static String call(Channel ch, MethodDescriptor<String, String> method, String request) {
        return ClientCalls.blockingUnaryCall(ch, method, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), request);
    }

    private static Status.Code failure(Channel ch, MethodDescriptor<String, String> method, String request) {
        return assertThrows(StatusRuntimeException.class, () -> call(ch, method, request)).getStatus().getCode();
    }

    /** Starts {@code n} calls that wait in the handler until {@link #release} opens. */
    private static List<Future<String>> hold(int n, MethodDescriptor<String, String> method) throws InterruptedException {
        arrived = new CountDownLatch(n);
        release = new CountDownLatch(1);
        List<Future<String>> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            held.add(clients.submit(() -> call(channel, method, "hold")));
        }
        assertTrue(arrived.await(10, TimeUnit.SECONDS), "the held calls reached the handler");
        return held;
    }

    private static void releaseAll(List<Future<String>> held) throws Exception {
        release.countDown();
        for (Future<String> f : held) {
            assertEquals("ok", f.get(10, TimeUnit.SECONDS));
        }
    }

    // ---------------------------------------------------------------- the tests

    @Test
    void overTheLimitIsRejectedWithResourceExhaustedAndPushback() throws Exception {
        List<Future<String>> held = hold(2, A_CALL);
        assertEquals(2, A.inFlight());
        int before = handled(A_CALL);
        for (int i = 0; i < 3; i++) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call(channel, A_CALL, "ok"));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
            assertEquals("server concurrency limit reached", e.getStatus().getDescription());
            Metadata trailers = Status.trailersFromThrowable(e);
            assertNotNull(trailers);
            assertEquals("1500", trailers.get(AdaptiveLimitServerInterceptor.RETRY_PUSHBACK));
        }
        assertEquals(before, handled(A_CALL), "no rejected call reached the handler");
        assertEquals(2, A.inFlight(), "a rejection takes no slot");
        releaseAll(held);
        assertEquals("ok", call(channel, A_CALL, "ok"), "slots free again");
    }

    @Test
    void underTheLimitEveryCallPasses() throws Exception {
        int before = handled(A_CALL);
        for (int i = 0; i < 20; i++) {
            assertEquals("ok", call(channel, A_CALL, "ok"));
        }
        releaseAll(hold(2, A_CALL)); // exactly the limit, concurrently
        assertEquals(before + 22, handled(A_CALL));
    }

    @Test
    void saturatingOneGroupDoesNotRejectAnother() throws Exception {
        List<Future<String>> held = hold(2, A_CALL);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, failure(channel, A_CALL, "ok"));
        for (int i = 0; i < 5; i++) {
            assertEquals("ok", call(channel, B_CALL, "ok"), "test.B/Call has its own limiter");
        }
        assertEquals("ok", call(withHeader(GROUP, "b"), A_CALL, "ok"), "the classifier's group, not the service's");
        Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channel, A_STREAM,
                CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), "ok");
        assertEquals("ok", stream.next(), "streaming calls are not limited");
        assertEquals(0, B.inFlight());
        releaseAll(held);
    }

    @Test
    void aCallWhoseDeadlinePassedBeforeItStartedIsShedWithoutASlot() throws Exception {
        List<Future<String>> held = hold(2, A_CALL);
        int beforeA = handled(A_CALL);
        int beforeB = handled(B_CALL);
        CLOSED.clear();
        Channel queued = withHeader(QUEUE, "expire");
        for (MethodDescriptor<String, String> m : List.of(A_CALL, B_CALL)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                    queued, m, CallOptions.DEFAULT.withDeadlineAfter(100, TimeUnit.MILLISECONDS), "ok"));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
            Status closed = CLOSED.poll(10, TimeUnit.SECONDS);
            assertNotNull(closed, "the interceptor closed the call");
            assertEquals(Status.Code.DEADLINE_EXCEEDED, closed.getCode(), "shed as expired, not refused: " + closed);
            assertEquals("deadline passed before the call could start", closed.getDescription());
        }
        assertEquals(2, A.inFlight(), "the full group: expired, not over the limit");
        assertEquals(0, B.inFlight());
        assertEquals(2, B.limit());
        assertEquals(beforeA, handled(A_CALL));
        assertEquals(beforeB, handled(B_CALL));
        releaseAll(held);
    }

    @Test
    void permitsAreNeverLeakedWhateverTheHandlerOrClientDoes() throws Exception {
        String[] requests = {"ok", "status:UNAVAILABLE", "status:INTERNAL", "throw", "never-cancel", "never-deadline"};
        List<Future<?>> all = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            for (String r : requests) {
                all.add(clients.submit(() -> {
                    if (r.equals("never-cancel")) { // the client cancels its call
                        Future<String> f = ClientCalls.futureUnaryCall(channel.newCall(B_LEAK, CallOptions.DEFAULT), "never");
                        awaitTrue(() -> LEAK.inFlight() > 0, "the call started");
                        f.cancel(true);
                        return Status.Code.CANCELLED;
                    }
                    if (r.equals("never-deadline")) {
                        return assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel,
                                B_LEAK, CallOptions.DEFAULT.withDeadlineAfter(100, TimeUnit.MILLISECONDS), "never"))
                                .getStatus().getCode();
                    }
                    try {
                        call(channel, B_LEAK, r);
                        return Status.Code.OK;
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode();
                    }
                }));
            }
            // a handler's startCall that throws, and one that returns null
            assertEquals(Status.Code.UNKNOWN, failure(withHeader(BAD, "throw"), B_BAD_START, "x"));
            assertNotNull(failure(withHeader(BAD, "null"), B_BAD_START, "x"));
        }
        Status.Code[] expected = {Status.Code.OK, Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.UNKNOWN,
            Status.Code.CANCELLED, Status.Code.DEADLINE_EXCEEDED};
        for (int i = 0; i < all.size(); i++) {
            assertEquals(expected[i % requests.length], all.get(i).get(20, TimeUnit.SECONDS), requests[i % requests.length]);
        }
        awaitTrue(() -> LEAK.inFlight() == 0, "every permit came back: " + LEAK);

        // a client that goes away with calls in flight: its channel shuts down
        ManagedChannel leaving = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            for (int i = 0; i < 5; i++) {
                ClientCalls.futureUnaryCall(leaving.newCall(B_LEAK, CallOptions.DEFAULT), "never");
            }
            awaitTrue(() -> LEAK.inFlight() == 5, "the calls started");
        } finally {
            leaving.shutdownNow();
            assertTrue(leaving.awaitTermination(10, TimeUnit.SECONDS));
        }
        awaitTrue(() -> LEAK.inFlight() == 0, "the departed client's permits came back: " + LEAK);
        assertEquals(64, LEAK.limit());
    }

    @Test
    void theLimitGoesDownAsLatencyRisesAndOnDrops() throws Exception {
        assertEquals(10, ADAPT.limit());
        assertEquals("ok", call(channel, B_ADAPT, "advance:2000"));
        assertEquals(5, ADAPT.limit(), "a 2 s round trip on the limiter's ticker is over AIMD's 1 s: halved");
        assertEquals(Status.Code.UNAVAILABLE, failure(channel, B_ADAPT, "status:UNAVAILABLE"));
        assertEquals(2, ADAPT.limit(), "UNAVAILABLE from the handler (its dependency refused) is a drop");
        assertEquals("ok", call(channel, B_ADAPT, "ok"));
        assertEquals(3, ADAPT.limit(), "a fast success at half the limit in use: +1");
        for (String r : new String[] {"never", "wait-deadline", "throw-late"}) {
            assertEquals(Status.Code.DEADLINE_EXCEEDED, assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, B_ADAPT,
                            CallOptions.DEFAULT.withDeadlineAfter(50, TimeUnit.MILLISECONDS), r)).getStatus().getCode());
            awaitTrue(() -> ADAPT.inFlight() == 0, "the call ended: " + ADAPT);
            assertEquals(3, ADAPT.limit(), "the client's own deadline passed (" + r + "): no sample");
        }
        assertEquals(Status.Code.UNKNOWN, failure(channel, B_ADAPT, "wouldpass"));
        assertEquals(3, ADAPT.limit(), "a guard's refusal because a wait would pass the client's deadline: no sample");
        assertEquals(Status.Code.DEADLINE_EXCEEDED, failure(channel, B_ADAPT, "status:DEADLINE_EXCEEDED"));
        assertEquals(1, ADAPT.limit(), "DEADLINE_EXCEEDED from the handler (a dependency timed out) is a drop");
        assertEquals("ok", call(channel, B_ADAPT, "ok"));
        assertEquals(2, ADAPT.limit());
        assertEquals(Status.Code.INTERNAL, failure(channel, B_ADAPT, "status:INTERNAL"));
        assertEquals(3, ADAPT.limit(), "INTERNAL is an answer, not overload: a latency sample");
        assertEquals(Status.Code.UNKNOWN, failure(channel, B_ADAPT, "throw"));
        assertEquals(3, ADAPT.limit(), "a handler's bug is no sample");
    }

    /**
     * A handler that failed because a deadline passed (or a wait would pass it) teaches the limiter
     * nothing only when the client sent that deadline; without a client deadline the deadline was the
     * server's own ({@code ResilienceServerInterceptor}'s default or maximum), and the failure is a
     * drop, as the servlet filter decides.
     */
    @Test
    void aDeadlineFailureGoesUnsampledOnlyWhenTheClientSentADeadline() {
        AdaptiveLimiter limiter = AdaptiveLimiter.builder("deadlines")
                .algorithm(LimitAlgorithm.aimd(16, 1, 32, 0.5, Duration.ofHours(1))).build();
        Deadline clients = Deadline.after(1, TimeUnit.HOURS);
        Throwable[] deadlineMade = {new DeadlineExceededException(), new RequestNotPermittedException("outbound",
                RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE, "a wait would pass the deadline")};
        for (Throwable e : deadlineMade) {
            AdaptiveLimitServerInterceptor.fail(limiter.tryAcquire(), e, clients);
            assertEquals(16, limiter.limit(), "the client's deadline: no sample, for " + e);
        }
        int limit = 16;
        for (Throwable e : deadlineMade) {
            AdaptiveLimitServerInterceptor.fail(limiter.tryAcquire(), e, null);
            limit /= 2;
            assertEquals(limit, limiter.limit(), "no client deadline: the server's own deadline is a drop, for " + e);
        }
        assertEquals(0, limiter.inFlight());
    }

    @Test
    void aClassifierThatThrowsFailsTheCallWithoutTakingASlot() throws Exception {
        int before = handled(A_CALL);
        assertEquals(Status.Code.UNKNOWN, failure(withHeader(GROUP, "boom"), A_CALL, "ok"));
        assertEquals(before, handled(A_CALL));
        assertEquals(0, A.inFlight());
        assertEquals("ok", call(channel, A_CALL, "ok"));
    }

    // ---------------------------------------------------------------- configuration, without a server

    @Test
    void theBuilderFailsFastNamingTheSetting() {
        assertEquals("nothing to limit: set a defaultLimiter, a method, a service or a classifier",
                assertThrows(IllegalStateException.class, () -> AdaptiveLimitServerInterceptor.builder().build())
                        .getMessage());
        assertEquals("fullMethodName must be <service>/<method>: 'test.B'", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitServerInterceptor.builder().method("test.B", A)).getMessage());
        assertEquals("fullMethodName must be <service>/<method>: 'test.B/'", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitServerInterceptor.builder().method("test.B/", A)).getMessage());
        assertEquals("serviceName must be a service's full name, without '/': 'test.B/Call'",
                assertThrows(IllegalArgumentException.class,
                        () -> AdaptiveLimitServerInterceptor.builder().service("test.B/Call", A)).getMessage());
        assertEquals("serviceName has a limiter already: 'test.A'", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitServerInterceptor.builder().service("test.A", A).service("test.A", B)).getMessage());
        assertEquals("retryAfter must be positive and at most a day: PT0S", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitServerInterceptor.builder().retryAfter(Duration.ZERO)).getMessage());
        assertEquals("defaultLimiter was already set", assertThrows(IllegalStateException.class,
                () -> AdaptiveLimitServerInterceptor.builder().defaultLimiter(A).defaultLimiter(B)).getMessage());
        assertEquals("codes contains null", assertThrows(NullPointerException.class,
                () -> AdaptiveLimitServerInterceptor.builder().dropOn(java.util.Collections.singleton(null))).getMessage());
        AdaptiveLimitServerInterceptor i = AdaptiveLimitServerInterceptor.builder().defaultLimiter(A)
                .method("test.B/Call", B).service("test.A", A).dropOn(EnumSet.noneOf(Status.Code.class))
                .retryAfter(Duration.ofNanos(1_500_001)).build();
        assertEquals(Duration.ofMillis(2), i.retryAfter(), "rounded up to whole milliseconds");
        assertEquals("AdaptiveLimitServerInterceptor[test.A->a, test.B/Call->b, default=a, retryAfter=2ms]", i.toString());
        assertEquals("AdaptiveLimitServerInterceptor[default=a, classifier, retryAfter=1000ms]",
                AdaptiveLimitServerInterceptor.builder().defaultLimiter(A).classifier((m, h) -> null).build().toString());
        assertEquals(Duration.ofSeconds(1), AdaptiveLimitServerInterceptor.builder().defaultLimiter(A).build().retryAfter());
    }
}
