package dev.resilience.benchmarks;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Retry;
import dev.resilience.grpc.GrpcStatuses;
import dev.resilience.grpc.ResilienceClientInterceptor;
import dev.resilience.grpc.ResilienceServerInterceptor;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the gRPC interceptors add to a unary call, same run, same service: a blocking unary call
 * over grpc-netty-shaded on loopback ({@code netty_*}) and over grpc's in-process transport
 * ({@code inprocess_*}, where the transport costs least, so the interceptors' share shows), without
 * interceptors, with both (client and server) under a deadline, and with a guarded client (retry
 * and breaker around the unary call) under a deadline. The deadline context is attached per call.
 * {@code *_plainGrpcDeadline} is the fair baseline for the deadline rows: a plain call with gRPC's own
 * deadline ({@code withDeadlineAfter}), which arms gRPC's deadline timer as the interceptor's calls do.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class GrpcAdapterBenchmark {

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
    static final MethodDescriptor<String, String> ECHO = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("bench.Echo/Echo")
            .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();

    private Server nettyPlain;
    private Server nettyIntercepted;
    private Server inprocPlain;
    private Server inprocIntercepted;
    private ManagedChannel[] channels;
    private Channel netty;
    private Channel nettyWithDeadline;
    private Channel nettyGuarded;
    private Channel inproc;
    private Channel inprocWithDeadline;
    private Channel inprocGuarded;
    private CancelHandle deadline;

    private static ServerServiceDefinition service() {
        return ServerServiceDefinition.builder("bench.Echo")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, responses) -> {
                    responses.onNext(request);
                    responses.onCompleted();
                })).build();
    }

    @Setup(Level.Trial)
    public void start() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        nettyPlain = NettyServerBuilder.forAddress(loopback).addService(service()).build().start();
        nettyIntercepted = NettyServerBuilder.forAddress(loopback)
                .addService(ServerInterceptors.intercept(service(), ResilienceServerInterceptor.create())).build().start();
        String name = "bench-" + System.nanoTime();
        inprocPlain = InProcessServerBuilder.forName(name).directExecutor().addService(service()).build().start();
        inprocIntercepted = InProcessServerBuilder.forName(name + "-i").directExecutor()
                .addService(ServerInterceptors.intercept(service(), ResilienceServerInterceptor.create())).build().start();
        ManagedChannel n1 = NettyChannelBuilder.forAddress("127.0.0.1", nettyPlain.getPort()).usePlaintext().build();
        ManagedChannel n2 = NettyChannelBuilder.forAddress("127.0.0.1", nettyIntercepted.getPort()).usePlaintext().build();
        ManagedChannel i1 = InProcessChannelBuilder.forName(name).directExecutor().build();
        ManagedChannel i2 = InProcessChannelBuilder.forName(name + "-i").directExecutor().build();
        channels = new ManagedChannel[] {n1, n2, i1, i2};
        Pipeline<Object> guards = Pipeline.builder("bench")
                .add(Retry.builder("bench").maxAttempts(3).retryOn(GrpcStatuses::isRetryable).build())
                .add(CircuitBreaker.builder("bench").isSuccessful(GrpcStatuses::isClientError).build())
                .build();
        ResilienceClientInterceptor plainInterceptor = ResilienceClientInterceptor.create();
        ResilienceClientInterceptor guardedInterceptor = ResilienceClientInterceptor.builder().pipeline(guards).build();
        netty = n1;
        nettyWithDeadline = ClientInterceptors.intercept(n2, plainInterceptor);
        nettyGuarded = ClientInterceptors.intercept(n2, guardedInterceptor);
        inproc = i1;
        inprocWithDeadline = ClientInterceptors.intercept(i2, plainInterceptor);
        inprocGuarded = ClientInterceptors.intercept(i2, guardedInterceptor);
        deadline = Context.background().withTimeout(Duration.ofHours(1));
    }

    @TearDown(Level.Trial)
    public void stop() {
        deadline.cancel();
        for (ManagedChannel c : channels) {
            c.shutdownNow(); // no waiting: the fork ends anyway
        }
        for (Server s : new Server[] {nettyPlain, nettyIntercepted, inprocPlain, inprocIntercepted}) {
            s.shutdownNow();
        }
    }

    private static String call(Channel channel) {
        return ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, "x");
    }

    private String underDeadline(Channel channel) {
        try (Scope s = deadline.attach()) {
            return call(channel);
        }
    }

    @Benchmark
    public String netty_plain() {
        return call(netty);
    }

    /** gRPC's own deadline, no interceptor: what a plain call with a deadline costs. */
    @Benchmark
    public String netty_plainGrpcDeadline() {
        return ClientCalls.blockingUnaryCall(netty, ECHO, CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.HOURS), "x");
    }

    @Benchmark
    public String netty_interceptorsDeadline() {
        return underDeadline(nettyWithDeadline);
    }

    @Benchmark
    public String netty_interceptorsGuardedDeadline() {
        return underDeadline(nettyGuarded);
    }

    @Benchmark
    public String inprocess_plain() {
        return call(inproc);
    }

    /** gRPC's own deadline, no interceptor: what a plain call with a deadline costs. */
    @Benchmark
    public String inprocess_plainGrpcDeadline() {
        return ClientCalls.blockingUnaryCall(inproc, ECHO, CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.HOURS), "x");
    }

    @Benchmark
    public String inprocess_interceptorsDeadline() {
        return underDeadline(inprocWithDeadline);
    }

    @Benchmark
    public String inprocess_interceptorsGuardedDeadline() {
        return underDeadline(inprocGuarded);
    }
}
