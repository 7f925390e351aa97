package dev.resilience.examples;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryBudget;
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
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The context across gRPC: a frontend calls an inventory service on loopback (grpc-netty-shaded)
 * through {@link ResilienceClientInterceptor}, with a retry (on a budget) and a circuit breaker
 * around each unary call; the service runs {@link ResilienceServerInterceptor}, so its handler
 * sees the caller's deadline and cancellation as {@link Context#current()}.
 *
 * <ol>
 * <li>Under a 2 s deadline, the first attempt meets a flaky replica ({@code UNAVAILABLE}); the
 *     retry's second attempt succeeds, and the service reports how much of the deadline it had.</li>
 * <li>A call made after its deadline fails at once with {@code DEADLINE_EXCEEDED}: the service never
 *     hears of it.</li>
 * <li>The caller gives up on a slow request: cancelling its context cancels the call, and the
 *     service's handler, waiting on its context, stops at once.</li>
 * </ol>
 *
 * <p>No protoc here: the method is described by hand with a UTF-8 string marshaller.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.GrpcDemo}
 */
public final class GrpcDemo {

    /** {@code demo.Inventory/Check}: an item in, a line of text out. */
    static final MethodDescriptor<String, String> CHECK = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("demo.Inventory", "Check"))
            .setRequestMarshaller(new Utf8())
            .setResponseMarshaller(new Utf8())
            .build();

    private GrpcDemo() {
    }

    public static void main(String[] args) throws Exception {
        Outcome o = run(System.out);
        System.out.printf("[summary] reply=%s late-call=%s cancelled-call=%s failed-fast-and-cancelled=%s%n", o.reply(),
                o.late(), o.cancelled(), o.late() == Status.Code.DEADLINE_EXCEEDED && o.cancelled() == Status.Code.CANCELLED);
    }

    /** What happened: the first call's reply, the service's call count, and the two failures. */
    record Outcome(String reply, int serviceCalls, Status.Code late, Status.Code cancelled, String serviceSawOnCancel) {
    }

    static Outcome run(PrintStream out) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch slowStarted = new CountDownLatch(1);
        CompletableFuture<String> slowEnded = new CompletableFuture<>();
        ServerServiceDefinition inventory = ServerServiceDefinition.builder("demo.Inventory")
                .addMethod(CHECK, ServerCalls.asyncUnaryCall((String item, StreamObserver<String> reply) ->
                        check(item, reply, calls.incrementAndGet(), out, slowStarted, slowEnded)))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(ServerInterceptors.intercept(inventory, ResilienceServerInterceptor.create()))
                .build().start();
        ManagedChannel managed = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            Pipeline<Object> guards = Pipeline.builder("inventory")
                    .add(Retry.builder("inventory").maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(20)))
                            .retryOn(GrpcStatuses::isRetryable).budget(RetryBudget.of(0.2, 10, 100)).build())
                    .add(CircuitBreaker.builder("inventory").isSuccessful(GrpcStatuses::isClientError).build())
                    .build();
            Channel channel = ClientInterceptors.intercept(managed,
                    ResilienceClientInterceptor.builder().pipeline(guards).build());

            // 1. a deadline for the whole call, retries included; the service sees what is left of it
            String reply;
            try (CancelHandle call = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach()) {
                reply = ClientCalls.blockingUnaryCall(channel, CHECK, CallOptions.DEFAULT, "apples");
            }
            out.printf("[client]  2 s deadline: %s (service calls so far: %d)%n", reply, calls.get());

            // 2. too late: fails here, nothing is sent
            Status.Code late;
            int before = calls.get();
            try (CancelHandle call = Context.current().withTimeout(Duration.ZERO); Scope s = call.attach()) {
                ClientCalls.blockingUnaryCall(channel, CHECK, CallOptions.DEFAULT, "pears");
                late = Status.Code.OK;
            } catch (StatusRuntimeException e) {
                late = e.getStatus().getCode();
            }
            out.printf("[client]  call after its deadline: %s, service calls made: %d%n", late, calls.get() - before);

            // 3. the caller gives up: its context's cancellation reaches the service's handler
            Status.Code cancelled;
            CancelHandle caller = Context.current().withCancel();
            Future<String> slow;
            try (Scope s = caller.attach()) {
                slow = ClientCalls.futureUnaryCall(channel.newCall(CHECK, CallOptions.DEFAULT), "slow");
            }
            slowStarted.await(5, TimeUnit.SECONDS);
            caller.cancel(new IllegalStateException("the user closed the page"));
            try {
                slow.get(5, TimeUnit.SECONDS);
                cancelled = Status.Code.OK;
            } catch (ExecutionException e) {
                cancelled = Status.fromThrowable(e.getCause()).getCode();
            }
            String sawOnCancel = slowEnded.get(5, TimeUnit.SECONDS);
            out.printf("[client]  cancelled the slow call: %s; the service's handler saw: %s%n", cancelled, sawOnCancel);
            return new Outcome(reply, calls.get(), late, cancelled, sawOnCancel);
        } finally {
            managed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** The service: the first call meets a flaky replica; "slow" waits until its caller gives up. */
    private static void check(String item, StreamObserver<String> reply, int call, PrintStream out,
            CountDownLatch slowStarted, CompletableFuture<String> slowEnded) {
        Context ctx = Context.current(); // the caller's deadline and cancellation, set by ResilienceServerInterceptor
        if (call == 1) {
            out.printf("[service] call %d (%s): flaky replica, UNAVAILABLE%n", call, item);
            reply.onError(Status.UNAVAILABLE.withDescription("replica restarting").asRuntimeException());
            return;
        }
        if (item.equals("slow")) {
            out.printf("[service] call %d (%s): working until the caller gives up%n", call, item);
            slowStarted.countDown();
            ctx.waitUntil(Ticker.system(), System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
            slowEnded.complete(String.valueOf(ctx.err()));
            return; // the call is cancelled: nobody is there to answer
        }
        long left = ctx.remaining().map(Duration::toMillis).orElse(-1L);
        out.printf("[service] call %d (%s): %d ms of the caller's deadline left%n", call, item, left);
        reply.onNext(item + ": in stock (answered with " + left + " ms to spare)");
        reply.onCompleted();
    }

    /** UTF-8 strings as messages. */
    private static final class Utf8 implements MethodDescriptor.Marshaller<String> {
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
    }
}
