package dev.resilience.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Ticker;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.LimitAlgorithm;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Whose deadline made a call fail decides what the adaptive limit learns: the client's (it sent a
 * deadline, and it binds) teaches nothing, the server's own ({@link ResilienceServerInterceptor}'s
 * default for a call without one, or its maximum cutting a longer one) is a drop. A real server on
 * loopback: the limit interceptor outermost, then the server interceptor with its bounds, then a
 * handler that waits for its context to end and throws the context's exception.
 */
class AdaptiveLimitServerBoundsTest {

    /** grpc-java logs what a handler throws: asserted here, not printed. Held so the setting stays. */
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

    private static final MethodDescriptor<String, String> CALL = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Bounds", "Call"))
            .setRequestMarshaller(Loopback.UTF8).setResponseMarshaller(Loopback.UTF8).build();

    /** What the handler threw (it ran), or null (it did not). */
    private static final AtomicReference<Throwable> THROWN = new AtomicReference<>();

    /**
     * The limit after one call that failed when its context ended (the handler's exception in
     * {@link #THROWN}): the server's bounds {@code max} and {@code dflt}, the client's deadline
     * {@code client} (null: none).
     */
    private static int limitAfterOneCall(Duration max, Duration dflt, Duration client) throws Exception {
        return limitsAfterOneCall(max, dflt, client, 1)[0];
    }

    /**
     * As {@link #limitAfterOneCall}, with {@code n} limit interceptors (each its own limiter) around
     * the server interceptor, the first innermost; their limits after the call.
     */
    private static int[] limitsAfterOneCall(Duration max, Duration dflt, Duration client, int n) throws Exception {
        GRPC_LOG.setLevel(Level.OFF);
        THROWN.set(null);
        AdaptiveLimiter[] limiters = new AdaptiveLimiter[n];
        ServerInterceptor[] chain = new ServerInterceptor[n + 1];
        chain[0] = ResilienceServerInterceptor.builder().maxTimeout(max).defaultTimeout(dflt).build();
        for (int i = 0; i < n; i++) {
            limiters[i] = AdaptiveLimiter.builder("bounds-" + i)
                    .algorithm(LimitAlgorithm.aimd(16, 1, 32, 0.5, Duration.ofHours(1))).build();
            chain[i + 1] = AdaptiveLimitServerInterceptor.builder().defaultLimiter(limiters[i]).build();
        }
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Bounds")
                .addMethod(CALL, ServerCalls.asyncUnaryCall((request, response) -> {
                    Context.current().waitUntil(Ticker.system(), System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
                    try {
                        Context.current().throwIfDone(); // the context's DeadlineExceededException, say
                    } catch (ContextDoneException e) {
                        THROWN.set(e);
                        throw e;
                    }
                    response.onNext("not reached");
                    response.onCompleted();
                }))
                .build();
        ExecutorService executor = Executors.newCachedThreadPool();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .executor(executor)
                .addService(ServerInterceptors.intercept(service, chain)) // the last outermost
                .build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            CallOptions options = client == null ? CallOptions.DEFAULT
                    : CallOptions.DEFAULT.withDeadlineAfter(client.toNanos(), TimeUnit.NANOSECONDS);
            assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel, CALL, options, "x"));
            int[] limits = new int[n];
            for (int i = 0; i < n; i++) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (limiters[i].inFlight() != 0 && System.nanoTime() < end) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
                assertEquals(0, limiters[i].inFlight(), "the permit came back to " + limiters[i].name());
                limits[i] = limiters[i].limit();
            }
            return limits;
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
            assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS));
            assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
            executor.shutdownNow();
        }
    }

    @Test
    void theServersMaximumCuttingTheClientsDeadlineIsADrop() throws Exception {
        assertEquals(8, limitAfterOneCall(Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(20)));
        assertInstanceOf(DeadlineExceededException.class, THROWN.get(), "the server's 100 ms ended the call");
    }

    @Test
    void theServersDefaultForACallWithoutADeadlineIsADrop() throws Exception {
        assertEquals(8, limitAfterOneCall(Duration.ofSeconds(5), Duration.ofMillis(100), null));
        assertInstanceOf(DeadlineExceededException.class, THROWN.get(), "the server's default ended the call");
    }

    @Test
    void everyLimitAroundTheServerInterceptorHearsOfTheCut() throws Exception {
        assertArrayEquals(new int[] {8, 8},
                limitsAfterOneCall(Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(20), 2));
        assertInstanceOf(DeadlineExceededException.class, THROWN.get());
        assertArrayEquals(new int[] {16, 16},
                limitsAfterOneCall(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(2), 2),
                "and neither learns from the client's own deadline");
    }

    @Test
    void theClientsOwnDeadlineTeachesNothing() throws Exception {
        // 2 s: long enough that the call reaches the handler on a slow machine before it ends.
        assertEquals(16, limitAfterOneCall(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(2)));
        assertNotNull(THROWN.get(), "the handler ran, and the client's deadline ended it");
    }
}
