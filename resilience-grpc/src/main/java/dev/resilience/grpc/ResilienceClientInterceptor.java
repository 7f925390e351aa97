package dev.resilience.grpc;

import dev.resilience.context.Context;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A gRPC client interceptor that carries the current {@link Context} into every call, and runs
 * unary calls through the toolkit's policies.
 *
 * <pre>{@code
 * Pipeline<Object> guards = Pipeline.builder("inventory")
 *         .add(Retry.builder("inventory").retryOn(GrpcStatuses::isRetryable)
 *                 .budget(RetryBudget.of(0.2, 10, 100)).build())
 *         .add(CircuitBreaker.builder("inventory").isSuccessful(GrpcStatuses::isClientError).build())
 *         .add(RateLimiter.builder("inventory").rate(100).burst(20).build())
 *         .build();
 * Channel channel = ClientInterceptors.intercept(managedChannel,
 *         ResilienceClientInterceptor.builder().pipeline(guards).build());
 *
 * try (CancelHandle h = Context.current().withTimeout(Duration.ofMillis(300)); Scope s = h.attach()) {
 *     ClientCalls.blockingUnaryCall(channel, CHECK, CallOptions.DEFAULT, item);  // grpc-timeout: ~300m
 * }
 * }</pre>
 *
 * <p><b>Deadline.</b> The earlier of the current context's deadline and the call's own
 * ({@link CallOptions#getDeadline()}) goes on the call's options, the rule grpc-java itself applies
 * to {@code io.grpc.Context} (whose deadline, if earlier still, wins as usual). The deadline crosses
 * as remaining time, so our context may run on any {@link dev.resilience.context.Ticker}; gRPC
 * measures it on {@code System.nanoTime()} from then on.
 *
 * <p><b>Done already.</b> A call made under a context that is already done fails when started, with
 * {@code DEADLINE_EXCEEDED} (deadline passed) or {@code CANCELLED} (cancelled), the context's
 * exception as the status's cause, without calling the channel below: no interceptor below it
 * runs, nothing touches the network, no policy is consulted.
 *
 * <p><b>Cancellation.</b> When the context ends during the call, the call is cancelled: grpc-java
 * cancels the stream (the call runs under a child of {@code io.grpc.Context} that our context
 * cancels) and the application's listener gets {@code DEADLINE_EXCEEDED} or {@code CANCELLED}. The
 * hook into the context lasts from {@code start} to {@code onClose}; a call made under
 * {@link Context#background()} itself goes straight to the channel.
 *
 * <p><b>Guards</b> ({@link Builder#policy} or {@link Builder#pipeline}) apply to
 * {@link MethodDescriptor.MethodType#UNARY UNARY} methods only ({@link Builder#methods} narrows
 * them further); streaming calls get the deadline and cancellation alone. The request message is
 * kept until {@code halfClose}, then the policy runs under a child of the context whose deadline
 * is the call's effective one (so a retry's backoff respects a shorter deadline of the call options
 * or of {@code io.grpc.Context} too); each attempt it makes is a fresh call on the channel below,
 * under the context the policy gives it (a {@code Timeout}'s or {@code Hedge}'s per-attempt
 * context bounds and cancels that attempt alone), with {@code grpc-previous-rpc-attempts} on
 * retries. An attempt fails with a {@link io.grpc.StatusRuntimeException}, so the policy's
 * predicates see gRPC statuses: classify them with {@link GrpcStatuses} (a {@code Retry}'s default
 * predicate retries everything, {@code INVALID_ARGUMENT} included, and a {@code CircuitBreaker}'s
 * default counts every status as a failure). The application's listener hears the final outcome
 * once: headers, the response (when requested), and {@code onClose}. A failure other than a gRPC
 * status becomes one through {@link GrpcStatuses#toStatus}: a circuit breaker's refusal is
 * {@code UNAVAILABLE}, any other guard's refusal (rate limiter, bulkhead, adaptive or
 * distributed limit) {@code RESOURCE_EXHAUSTED}, a {@code Timeout} {@code DEADLINE_EXCEEDED}, always
 * with the refusal as the status's cause. On failure only the status and trailers are delivered
 * (not the failed attempt's headers). The application's {@code cancel} ends the call at once: the
 * attempt in flight is cancelled and no further attempt starts. The outcome is delivered through
 * the call options' executor if they name one (a blocking stub's does), otherwise on the thread
 * that produced it (the transport's callback, or the thread that ended the context).
 *
 * <p><b>Do not also configure grpc-java's own retries</b> (a service config's {@code retryPolicy}
 * or {@code hedgingPolicy}) for the guarded methods: each of this interceptor's attempts would be
 * retried again below it, and the attempts multiply. Let one layer retry, with a budget.
 *
 * <p><b>Cost.</b> Under {@link Context#background()} an unguarded call is passed straight through.
 * Otherwise an unguarded call adds a child {@code io.grpc.Context}, a forwarding call and listener,
 * and one registration on our context; a guarded call adds the run's context, one stage per
 * attempt and whatever the policy costs. The interceptor takes no lock; grpc-java itself takes its
 * cancellable context's monitor when a call starts under one, as it does for any deadline context.
 */
public final class ResilienceClientInterceptor implements ClientInterceptor {

    private static final System.Logger LOG = System.getLogger("dev.resilience.grpc");

    /** A policy or pipeline, seen as what runs the attempts. */
    @FunctionalInterface
    interface Guard {
        CompletionStage<Object> callAsync(Supplier<? extends CompletionStage<Object>> attempt);
    }

    private final Guard guard;
    private final String guardName;
    private final Predicate<? super MethodDescriptor<?, ?>> methods;

    private ResilienceClientInterceptor(Builder b) {
        this.guard = b.guard;
        this.guardName = b.guardName;
        this.methods = b.methods;
    }

    /**
     * An interceptor that carries the context's deadline and cancellation, and guards nothing.
     *
     * @return the interceptor
     */
    public static ResilienceClientInterceptor create() {
        return new Builder().build();
    }

    /**
     * Starts building an interceptor.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
            CallOptions callOptions, Channel next) {
        Context ours = Context.current();
        if (ours.isDone()) {
            return new FailedCall<>(GrpcStatuses.toStatus(ours.err()), callOptions.getExecutor());
        }
        CallOptions options = withDeadlineOf(callOptions, ours);
        if (guard != null && method.getType() == MethodDescriptor.MethodType.UNARY && guards(method)) {
            return new GuardedCall<>(guard, method, options, callOptions.getDeadline(), next, ours,
                    io.grpc.Context.current());
        }
        if (ours == Context.background()) {
            return next.newCall(method, options);
        }
        return ContextBoundCall.create(method, options, next, ours);
    }

    private boolean guards(MethodDescriptor<?, ?> method) {
        if (methods == null) {
            return true;
        }
        try {
            return methods.test(method);
        } catch (Throwable t) { // a broken predicate must not break calls: this one goes unguarded
            try {
                LOG.log(System.Logger.Level.WARNING, "the methods predicate threw for " + method.getFullMethodName()
                        + "; the call is not guarded", t);
            } catch (Throwable ignored) {
                // logging itself failed
            }
            return false;
        }
    }

    /**
     * {@code options} with the earlier of its deadline and {@code context}'s; the same options if
     * theirs is no later (nothing is allocated).
     */
    static CallOptions withDeadlineOf(CallOptions options, Context context) {
        long remaining = context.remainingNanos();
        if (remaining == Long.MAX_VALUE) {
            return options;
        }
        io.grpc.Deadline own = options.getDeadline();
        if (own != null && own.timeRemaining(TimeUnit.NANOSECONDS) <= remaining) {
            return options;
        }
        return options.withDeadline(io.grpc.Deadline.after(remaining, TimeUnit.NANOSECONDS));
    }

    @Override
    public String toString() {
        return "ResilienceClientInterceptor[" + (guardName == null ? "deadline and cancellation only" : guardName) + "]";
    }

    /**
     * Builds a {@link ResilienceClientInterceptor}. Each setter may be called once;
     * {@link #policy} and {@link #pipeline} exclude each other.
     */
    public static final class Builder {
        private Guard guard;
        private String guardName;
        private Predicate<? super MethodDescriptor<?, ?>> methods;

        private Builder() {
        }

        /**
         * Runs unary calls through {@code policy} (a {@code Retry}, a {@code CircuitBreaker}, a
         * {@code RateLimiter}, your own); for several, use {@link #pipeline}.
         *
         * @param policy the policy
         * @return this builder
         * @throws IllegalStateException if a policy or pipeline was set already
         */
        public Builder policy(Policy policy) {
            Objects.requireNonNull(policy, "policy");
            checkNoGuard();
            if (policy.kind() == Policy.Kind.FALLBACK) {
                throw new IllegalArgumentException(noFallback(policy.name()));
            }
            this.guard = policy::callAsync;
            this.guardName = "policy " + policy.name();
            return this;
        }

        /**
         * Runs unary calls through {@code pipeline}, for example retry, circuit breaker and rate
         * limiter in the default order. The pipeline's result type does not matter: the interceptor
         * runs its own attempts through it.
         *
         * @param pipeline the pipeline
         * @return this builder
         * @throws IllegalArgumentException if the pipeline has a fallback: its value would not be
         *     a gRPC response; put a fallback around the stub call instead
         * @throws IllegalStateException if a policy or pipeline was set already
         */
        @SuppressWarnings("unchecked")
        public Builder pipeline(Pipeline<?> pipeline) {
            Objects.requireNonNull(pipeline, "pipeline");
            checkNoGuard();
            if (pipeline.kinds().contains(Policy.Kind.FALLBACK)) {
                throw new IllegalArgumentException(noFallback("pipeline " + pipeline.name()));
            }
            // The pipeline's T is only what its task returns: here, the interceptor's own attempts.
            this.guard = ((Pipeline<Object>) pipeline)::callAsync;
            this.guardName = "pipeline " + pipeline.name() + " " + pipeline.policyNames();
            return this;
        }

        /**
         * Which unary methods the policy guards; default all. For example
         * {@code MethodDescriptor::isIdempotent} keeps a retry away from methods that must not run
         * twice. A predicate that throws is logged and leaves that call unguarded.
         *
         * @param methods the methods to guard
         * @return this builder
         * @throws IllegalStateException if called twice
         */
        public Builder methods(Predicate<? super MethodDescriptor<?, ?>> methods) {
            Objects.requireNonNull(methods, "methods");
            if (this.methods != null) {
                throw new IllegalStateException("methods was already set");
            }
            this.methods = methods;
            return this;
        }

        /**
         * Builds the interceptor.
         *
         * @return the interceptor
         * @throws IllegalStateException if {@link #methods} was set without a policy or pipeline
         */
        public ResilienceClientInterceptor build() {
            if (methods != null && guard == null) {
                throw new IllegalStateException("methods narrows what a policy guards: set a policy or pipeline too");
            }
            return new ResilienceClientInterceptor(this);
        }

        private void checkNoGuard() {
            if (guard != null) {
                throw new IllegalStateException("a policy or pipeline was already set: " + guardName);
            }
        }

        private static String noFallback(String what) {
            return what + " has a fallback, whose value would not be a gRPC response;"
                    + " put the fallback around the stub call instead";
        }
    }
}
