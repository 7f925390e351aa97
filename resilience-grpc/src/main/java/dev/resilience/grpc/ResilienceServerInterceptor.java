package dev.resilience.grpc;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.context.internal.Checks;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Optional;

/**
 * A gRPC server interceptor that gives every call a {@link Context} of the toolkit carrying the
 * caller's deadline and cancellation, current in every callback of the handler: code in the handler
 * sees it as {@link Context#current()}, so the toolkit's guards wait no longer than the caller will,
 * and outgoing calls through {@link ResilienceClientInterceptor} (or the HTTP adapters) pass the
 * remaining deadline on.
 *
 * <pre>{@code
 * Server server = NettyServerBuilder.forAddress(address)
 *         .addService(ServerInterceptors.intercept(inventoryService, ResilienceServerInterceptor.create()))
 *         .build().start();
 *
 * // in the handler
 * Context.current().remaining();                          // the caller's remaining time
 * executor = ContextExecutors.wrap(pool);                 // tasks submitted from the handler see it too
 * }</pre>
 *
 * <p><b>Deadline.</b> The call's context has the deadline of the call's {@code io.grpc.Context}
 * (which grpc-java servers derive from the {@code grpc-timeout} header), measured on
 * {@link dev.resilience.context.Ticker#system()} and never later than gRPC's; without one it has no
 * deadline. It is a child of {@link Context#background()}: nothing leaks in from the thread that
 * happens to run the transport.
 *
 * <p><b>Cancellation.</b> The context is cancelled as soon as the call's {@code io.grpc.Context} is
 * (the client cancelled, the connection broke, gRPC's own deadline), not only when the handler's
 * {@code onCancel} comes round, so a handler blocked in a wait wakes up at once; the cause is
 * gRPC's cancellation cause (a {@code CANCELLED} {@link StatusRuntimeException} if gRPC gives none). It is also cancelled when the call completes ({@code onComplete}), as
 * gRPC cancels its own: work the handler started and left running is told to stop (use
 * {@link Context#withoutCancel()} for work that must outlive the call). {@code onCancel} runs with
 * the context already done.
 *
 * <p><b>A server's own bounds.</b> {@link #builder()} sets a {@linkplain Builder#maxTimeout maximum}
 * that cuts a longer client deadline (a client cannot make the server hold work longer than this,
 * whatever it asks for) and a {@linkplain Builder#defaultTimeout default} for calls without one,
 * as the HTTP adapters' {@code InboundDeadlines} do. They bound the toolkit's context (its guards,
 * its waits, and the deadline passed on to outgoing calls); gRPC's own {@code io.grpc.Context}
 * keeps the client's deadline. An {@link AdaptiveLimitServerInterceptor} outside this one is told
 * when the maximum cuts a client's deadline, so it counts the failures that deadline causes as
 * drops (the server's deadline), not as the client's.
 *
 * <pre>{@code
 * ServerInterceptor deadlines = ResilienceServerInterceptor.builder()
 *         .maxTimeout(Duration.ofSeconds(10))      // no client gets more than 10 s
 *         .defaultTimeout(Duration.ofSeconds(5))   // a client that sets none gets 5 s
 *         .build();
 * }</pre>
 *
 * <p><b>Where to install it.</b> It reads {@code io.grpc.Context} when the call starts, so install
 * it inside (after) any interceptor that replaces the call's {@code io.grpc.Context}, such as one
 * that shortens the deadline. Handlers that use {@code io.grpc.Context} directly keep working: it
 * and ours carry the same deadline and cancellation.
 *
 * <p><b>Cost.</b> Per call: one context and its handle, one listener on {@code io.grpc.Context},
 * one forwarding listener; per callback, one scope attach. No locks of ours (registering on
 * {@code io.grpc.Context} takes gRPC's).
 */
public final class ResilienceServerInterceptor implements ServerInterceptor {

    private static final ResilienceServerInterceptor INSTANCE = new ResilienceServerInterceptor(-1, -1);

    /** The server's maximum, or -1 for none. */
    private final long maxNanos;
    /** The deadline of a call without one, or -1 for none. */
    private final long defaultNanos;

    private ResilienceServerInterceptor(long maxNanos, long defaultNanos) {
        this.maxNanos = maxNanos;
        this.defaultNanos = defaultNanos;
    }

    /**
     * The interceptor without bounds of the server's own (the client's deadline as it is; it has no
     * state, one instance serves every service).
     *
     * @return the interceptor
     */
    public static ResilienceServerInterceptor create() {
        return INSTANCE;
    }

    /**
     * Starts an interceptor with a server maximum and/or a default deadline.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** The server's maximum for a call's deadline, if set. */
    public Optional<Duration> maxTimeout() {
        return maxNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(maxNanos));
    }

    /** The deadline of a call whose client set none, if set. */
    public Optional<Duration> defaultTimeout() {
        return defaultNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(defaultNanos));
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next) {
        io.grpc.Context grpc = io.grpc.Context.current();
        CancelHandle request = GrpcContexts.derive(Context.background(), grpc.getDeadline(), maxNanos, defaultNanos);
        GrpcContexts.FromGrpc link = GrpcContexts.follow(grpc, request);
        ServerCall.Listener<ReqT> listener;
        try (Scope s = request.attach()) {
            listener = next.startCall(call, headers);
        } catch (Throwable e) {
            link.release();
            request.cancel(e);
            throw e;
        }
        if (listener == null) { // grpc-java fails the call; nothing of ours may outlive it
            link.release();
            request.cancel();
            return null;
        }
        return new Bound<>(listener, request, grpc, link);
    }

    @Override
    public String toString() {
        return maxNanos < 0 && defaultNanos < 0 ? "ResilienceServerInterceptor"
                : "ResilienceServerInterceptor[maxTimeout=" + maxTimeout().map(Duration::toString).orElse("none")
                        + ", defaultTimeout=" + defaultTimeout().map(Duration::toString).orElse("none") + "]";
    }

    /** Configures a {@link ResilienceServerInterceptor} with bounds of the server's own. */
    public static final class Builder {
        private long maxNanos = -1;
        private long defaultNanos = -1;

        private Builder() {
        }

        /**
         * The server's maximum: a client deadline further away is cut to this. A call without a
         * deadline gets {@link #defaultTimeout} instead, not this: set both to bound every call.
         * Default: none.
         *
         * @throws NullPointerException if {@code maxTimeout} is null
         * @throws IllegalArgumentException if it is zero or negative
         * @throws IllegalStateException if already set
         */
        public Builder maxTimeout(Duration maxTimeout) {
            Checks.once(maxNanos < 0, "maxTimeout");
            maxNanos = Checks.positiveNanos(maxTimeout, "maxTimeout");
            return this;
        }

        /**
         * The deadline of a call whose client set none. Default: none. Must not exceed
         * {@link #maxTimeout}.
         *
         * @throws NullPointerException if {@code defaultTimeout} is null
         * @throws IllegalArgumentException if it is zero or negative
         * @throws IllegalStateException if already set
         */
        public Builder defaultTimeout(Duration defaultTimeout) {
            Checks.once(defaultNanos < 0, "defaultTimeout");
            defaultNanos = Checks.positiveNanos(defaultTimeout, "defaultTimeout");
            return this;
        }

        /**
         * Builds the interceptor.
         *
         * @throws IllegalArgumentException if {@link #defaultTimeout} exceeds {@link #maxTimeout}
         */
        public ResilienceServerInterceptor build() {
            if (maxNanos >= 0 && defaultNanos > maxNanos) {
                throw new IllegalArgumentException("defaultTimeout must not exceed maxTimeout: "
                        + Duration.ofNanos(defaultNanos) + " > " + Duration.ofNanos(maxNanos));
            }
            return new ResilienceServerInterceptor(maxNanos, defaultNanos);
        }
    }

    /** The handler's listener, run under the call's context. */
    private static final class Bound<ReqT> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {
        private final CancelHandle request;
        private final io.grpc.Context grpc;
        private final GrpcContexts.FromGrpc link;

        Bound(ServerCall.Listener<ReqT> delegate, CancelHandle request, io.grpc.Context grpc,
                GrpcContexts.FromGrpc link) {
            super(delegate);
            this.request = request;
            this.grpc = grpc;
            this.link = link;
        }

        @Override
        public void onMessage(ReqT message) {
            try (Scope s = request.attach()) {
                super.onMessage(message);
            }
        }

        @Override
        public void onHalfClose() {
            try (Scope s = request.attach()) {
                super.onHalfClose();
            }
        }

        @Override
        public void onReady() {
            try (Scope s = request.attach()) {
                super.onReady();
            }
        }

        @Override
        public void onCancel() {
            link.release();
            if (!request.context().isDone()) {
                // gRPC cancels its context on another executor: it may not have done so yet
                Throwable cause = grpc.cancellationCause();
                request.cancel(cause != null ? cause
                        : new StatusRuntimeException(Status.CANCELLED.withDescription("the call was cancelled")));
            }
            try (Scope s = request.attach()) {
                super.onCancel();
            }
        }

        @Override
        public void onComplete() {
            try (Scope s = request.attach()) {
                super.onComplete();
            } finally {
                link.release();
                request.cancel();
            }
        }
    }
}
