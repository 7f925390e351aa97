package dev.resilience.grpc;

import io.grpc.ClientCall;
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
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real gRPC server and channel over grpc-netty-shaded on 127.0.0.1 (port 0), serving hand-made
 * string methods (no protoc here): {@link #UNARY} and {@link #STREAM} run whatever {@link #handler}
 * holds and count their invocations.
 */
final class Loopback implements AutoCloseable {

    /** UTF-8 strings as messages. */
    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static final String SERVICE = "test.Echo";
    static final MethodDescriptor<String, String> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<String, String> STREAM = method("Stream", MethodDescriptor.MethodType.SERVER_STREAMING);

    /** What the server does with a request. */
    @FunctionalInterface
    interface Handler {
        void handle(String request, StreamObserver<String> response) throws Exception;
    }

    /** Replies "echo:" + the request. */
    static final Handler ECHO = (request, response) -> {
        response.onNext("echo:" + request);
        response.onCompleted();
    };

    final AtomicReference<Handler> handler = new AtomicReference<>(ECHO);
    final AtomicInteger invocations = new AtomicInteger();
    /** The headers of the last call the server received. */
    final AtomicReference<Metadata> lastHeaders = new AtomicReference<>();
    final Server server;
    final ManagedChannel channel;
    private final ExecutorService serverExecutor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "loopback-server");
        t.setDaemon(true);
        return t;
    });

    Loopback(ServerInterceptor... interceptors) throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall(this::serve))
                .addMethod(STREAM, ServerCalls.asyncServerStreamingCall(this::serve))
                .build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .executor(serverExecutor)
                .addService(ServerInterceptors.intercept(ServerInterceptors.intercept(service, interceptors),
                        new ServerInterceptor() { // outermost: sees the headers as they arrived
                            @Override
                            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                    ServerCallHandler<Q, R> next) {
                                lastHeaders.set(headers);
                                return next.startCall(call, headers);
                            }
                        }))
                .build()
                .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    /**
     * Makes one echo call, so that no test pays the connection and the first call's class loading
     * inside a deadline it measures; the call is not counted in {@link #invocations}.
     */
    void warmUp() {
        String answer = io.grpc.stub.ClientCalls.blockingUnaryCall(channel, UNARY,
                io.grpc.CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), "warm");
        if (!"echo:warm".equals(answer)) {
            throw new AssertionError("the warm-up call answered " + answer);
        }
        invocations.set(0);
    }

    private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(UTF8)
                .setResponseMarshaller(UTF8)
                .build();
    }

    private void serve(String request, StreamObserver<String> response) {
        invocations.incrementAndGet();
        try {
            handler.get().handle(request, response);
        } catch (Exception e) {
            response.onError(GrpcStatuses.toStatus(e).asRuntimeException());
        }
    }

    /** A handler that fails with {@code status} for the first {@code failures} invocations, then echoes. */
    static Handler failing(int failures, Status status) {
        AtomicInteger seen = new AtomicInteger();
        return (request, response) -> {
            if (seen.incrementAndGet() <= failures) {
                response.onError(status.asRuntimeException());
            } else {
                ECHO.handle(request, response);
            }
        };
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        server.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        server.awaitTermination(5, TimeUnit.SECONDS);
        serverExecutor.shutdownNow();
    }

    /** Records what a call's listener hears, and how many times it is closed. */
    static class Recorder<T> extends ClientCall.Listener<T> {
        final AtomicInteger closes = new AtomicInteger();
        final AtomicInteger messages = new AtomicInteger();
        final AtomicInteger headers = new AtomicInteger();
        final CountDownLatch closed = new CountDownLatch(1);
        volatile T message;
        volatile Status status;
        volatile Metadata trailers;

        @Override
        public void onHeaders(Metadata h) {
            headers.incrementAndGet();
        }

        @Override
        public void onMessage(T m) {
            messages.incrementAndGet();
            message = m;
        }

        @Override
        public void onClose(Status s, Metadata t) {
            status = s;
            trailers = t;
            closes.incrementAndGet();
            closed.countDown();
        }

        /** Waits for the close; fails the test if it does not come. */
        Status awaitClose() throws InterruptedException {
            if (!closed.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the call was never closed");
            }
            return status;
        }
    }
}
