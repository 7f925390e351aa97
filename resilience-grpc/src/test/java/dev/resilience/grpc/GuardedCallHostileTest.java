package dev.resilience.grpc;

import static dev.resilience.grpc.Loopback.UNARY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.Scope;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Invoker;
import dev.resilience.core.Policy;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Policies and listeners that misbehave: whatever they do, every guarded call completes, and the
 * application's listener is closed exactly once.
 */
class GuardedCallHostileTest {

    private static Loopback loopback;

    @BeforeAll
    static void startServer() throws Exception {
        loopback = new Loopback(ResilienceServerInterceptor.create());
    }

    @AfterAll
    static void stopServer() throws Exception {
        loopback.close();
    }

    @BeforeEach
    void reset() {
        loopback.handler.set(Loopback.ECHO);
        loopback.invocations.set(0);
    }

    /** A policy whose asynchronous form does {@code body}. */
    private static Policy policy(Function<Supplier<? extends CompletionStage<Object>>, CompletionStage<Object>> body) {
        return new Policy() {
            @Override
            public String name() {
                return "hostile";
            }

            @Override
            public <T> T execute(Invoker<T> chain, int next, Callable<T> task) throws Exception {
                return chain.invoke(next, task);
            }

            @Override
            @SuppressWarnings("unchecked")
            public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
                return (CompletionStage<T>) body.apply((Supplier<? extends CompletionStage<Object>>) (Supplier<?>) task);
            }
        };
    }

    private static Channel channel(Policy policy) {
        return ClientInterceptors.intercept(loopback.channel, ResilienceClientInterceptor.builder().policy(policy).build());
    }

    /** Starts a unary call with {@code listener} and returns it. */
    private static <L extends ClientCall.Listener<String>> L call(Channel channel, CallOptions options, L listener) {
        ClientCall<String, String> call = channel.newCall(UNARY, options);
        call.start(listener, new Metadata());
        call.request(1);
        call.sendMessage("a");
        call.halfClose();
        return listener;
    }

    @Test
    void aPolicyThatThrowsFailsTheCallOnce() throws Exception {
        IllegalStateException boom = new IllegalStateException("boom");
        Loopback.Recorder<String> r = call(channel(policy(task -> {
            throw boom;
        })), CallOptions.DEFAULT, new Loopback.Recorder<>());
        Status status = r.awaitClose();
        assertEquals(Status.Code.UNKNOWN, status.getCode());
        assertSame(boom, status.getCause());
        assertEquals(1, r.closes.get());
        assertEquals(0, loopback.invocations.get());
    }

    @Test
    void aPolicyThatReturnsNoStageFailsTheCallOnce() throws Exception {
        Loopback.Recorder<String> r = call(channel(policy(task -> null)), CallOptions.DEFAULT, new Loopback.Recorder<>());
        assertEquals(Status.Code.INTERNAL, r.awaitClose().getCode());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aPolicyThatCompletesWithSomethingElseFailsTheCallOnce() throws Exception {
        Loopback.Recorder<String> r = call(channel(policy(task -> CompletableFuture.completedFuture("not a response"))),
                CallOptions.DEFAULT, new Loopback.Recorder<>());
        Status status = r.awaitClose();
        assertEquals(Status.Code.INTERNAL, status.getCode());
        assertTrue(status.getDescription().contains("java.lang.String"), status.getDescription());
        assertEquals(0, r.messages.get());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aPolicyThatNeverCompletesStillEndsWhenTheApplicationCancels() throws Exception {
        Channel channel = channel(policy(task -> new CompletableFuture<>()));
        ClientCall<String, String> call = channel.newCall(UNARY, CallOptions.DEFAULT);
        Loopback.Recorder<String> r = new Loopback.Recorder<>();
        call.start(r, new Metadata());
        call.request(1);
        call.sendMessage("a");
        call.halfClose();
        call.cancel("enough", null);
        call.cancel("twice", null);
        assertEquals("enough", r.awaitClose().getDescription());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aPolicyThatNeverCompletesStillEndsWhenOurContextEnds() throws Exception {
        Channel channel = channel(policy(task -> new CompletableFuture<>()));
        CancelHandle h = Context.current().withCancel();
        Loopback.Recorder<String> r;
        try (Scope s = h.attach()) {
            r = call(channel, CallOptions.DEFAULT, new Loopback.Recorder<>());
        }
        h.cancel();
        Status status = r.awaitClose();
        assertEquals(Status.Code.CANCELLED, status.getCode());
        assertInstanceOf(ContextCancelledException.class, status.getCause());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aPolicyThatRunsTwoAttemptsAtOnceDeliversOneOutcome() throws Exception {
        List<CompletionStage<Object>> attempts = new ArrayList<>();
        Channel channel = channel(policy(task -> {
            CompletionStage<Object> first = task.get();
            CompletionStage<Object> second = task.get();
            attempts.add(first);
            attempts.add(second);
            return first.applyToEither(second, v -> v);
        }));
        Loopback.Recorder<String> r = call(channel, CallOptions.DEFAULT, new Loopback.Recorder<>());
        assertEquals(Status.Code.OK, r.awaitClose().getCode());
        assertEquals("echo:a", r.message);
        for (CompletionStage<Object> a : attempts) {
            a.toCompletableFuture().handle((v, e) -> null).get(); // both attempts end: none is left hanging
        }
        assertEquals(1, r.messages.get());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aListenerThatThrowsOnTheMessageIsClosedOnceWithCancelled() throws Exception {
        IllegalStateException boom = new IllegalStateException("listener broke");
        Loopback.Recorder<String> r = call(channel(policy(Policy::start)), CallOptions.DEFAULT, new Loopback.Recorder<>() {
            @Override
            public void onMessage(String m) {
                super.onMessage(m);
                throw boom;
            }
        });
        Status status = r.awaitClose();
        assertEquals(Status.Code.CANCELLED, status.getCode());
        assertSame(boom, status.getCause());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aListenerThatThrowsOnTheHeadersGetsNoMessageAndIsClosedOnce() throws Exception {
        IllegalStateException boom = new IllegalStateException("listener broke");
        Loopback.Recorder<String> r = call(channel(policy(Policy::start)), CallOptions.DEFAULT, new Loopback.Recorder<>() {
            @Override
            public void onHeaders(Metadata h) {
                throw boom;
            }
        });
        Status status = r.awaitClose();
        assertEquals(Status.Code.CANCELLED, status.getCode());
        assertSame(boom, status.getCause());
        assertEquals(0, r.messages.get());
        assertEquals(1, r.closes.get());
    }

    @Test
    void aListenerThatThrowsOnCloseIsLoggedAndTheInterceptorGoesOn() throws Exception {
        Channel channel = channel(policy(Policy::start));
        try (LogCapture log = new LogCapture()) {
            Loopback.Recorder<String> r = call(channel, CallOptions.DEFAULT, new Loopback.Recorder<>() {
                @Override
                public void onClose(Status s, Metadata t) {
                    super.onClose(s, t);
                    throw new IllegalStateException("listener broke on close");
                }
            });
            assertEquals(Status.Code.OK, r.awaitClose().getCode());
            assertEquals(1, r.closes.get());
            assertTrue(log.await("onClose threw"), "the listener's failure was logged");
        }
        assertEquals("echo:b", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "b"));
    }

    @Test
    void aMethodsPredicateThatThrowsLeavesTheCallUnguarded() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("hostile-predicate").build();
        breaker.forceOpen();
        Channel channel = ClientInterceptors.intercept(loopback.channel, ResilienceClientInterceptor.builder()
                .policy(breaker).methods(m -> {
                    throw new IllegalStateException("predicate broke");
                }).build());
        try (LogCapture log = new LogCapture()) {
            assertEquals("echo:a", ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, "a"));
            assertTrue(log.await("methods predicate threw"));
        }
    }

    @Test
    void anExecutorThatRefusesStillGetsTheListenerClosed() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("refusing-executor").build();
        breaker.forceOpen();
        AtomicInteger refused = new AtomicInteger();
        CallOptions options = CallOptions.DEFAULT.withExecutor(task -> {
            refused.incrementAndGet();
            throw new RejectedExecutionException("shut down");
        });
        Loopback.Recorder<String> r = call(channel(breaker), options, new Loopback.Recorder<>());
        Status status = r.awaitClose();
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertInstanceOf(CallNotPermittedException.class, status.getCause());
        assertEquals(1, refused.get());
        assertEquals(1, r.closes.get());
    }

    /** Captures what the interceptor logs (System.Logger goes to java.util.logging here), quietly. */
    private static final class LogCapture extends Handler implements AutoCloseable {
        private final Logger logger = Logger.getLogger("dev.resilience.grpc");
        private final boolean parentHandlers = logger.getUseParentHandlers();
        private final List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();

        LogCapture() {
            logger.addHandler(this);
            logger.setUseParentHandlers(false);
        }

        boolean await(String fragment) throws InterruptedException {
            for (int i = 0; i < 500; i++) {
                if (messages.stream().anyMatch(m -> m.contains(fragment))) {
                    return true;
                }
                Thread.sleep(10);
            }
            return false;
        }

        @Override
        public void publish(LogRecord record) {
            messages.add(record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
            logger.setUseParentHandlers(parentHandlers);
        }
    }
}
